//! Applying the versioned schema (`schema.rs`) when a storage opens. The whole check-and-apply runs
//! in one transaction holding the backend's migration lock, so processes opening the same fresh
//! instance at once apply each migration exactly once. A database newer than this build is refused.

/// Inherent `migrate` and `execute_raw` methods of `$ty` (used by the backends' `open`).
macro_rules! impl_migrate {
    ($ty:ident, $db:ty) => {
        impl $ty {
            /// Brings the schema to `target` (latest when `None`); returns the resulting version.
            async fn migrate(
                &self,
                migrations: &[$crate::sql::schema::Migration],
                target: Option<i64>,
                apply: bool,
            ) -> $crate::Result<i64> {
                let latest = $crate::sql::schema::LATEST_VERSION;
                let target = target.unwrap_or(latest).min(latest);
                let mut tx = self.begin_migration().await?;
                let err = |e| self.err("migrating the schema", e);
                if apply {
                    sqlx::query($crate::sql::schema::CREATE_SCHEMA_TABLE)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM dg_schema_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
                let current = current.unwrap_or(0);
                if current > latest {
                    return Err($crate::StorageError::SchemaTooNew {
                        location: self.location(),
                        found: current,
                        supported: latest,
                    });
                }
                if !apply {
                    if current < latest {
                        return Err($crate::StorageError::SchemaOutdated {
                            location: self.location(),
                            found: current,
                            latest,
                        });
                    }
                    return Ok(current);
                }
                for m in migrations.iter().filter(|m| m.version > current && m.version <= target) {
                    for statement in m.statements {
                        sqlx::query(statement).execute(&mut *tx).await.map_err(|e| {
                            self.err(&format!("applying schema migration {} ({})", m.version, m.name), e)
                        })?;
                    }
                    sqlx::query("INSERT INTO dg_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                        .bind(m.version)
                        .bind(m.name)
                        .bind($crate::run::now().as_secs_f64())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                tx.commit().await.map_err(err)?;
                Ok(current.max(target))
            }

            /// Runs SQL without parameters on the storage's database. For tests that must build an
            /// old schema or corrupt state by hand; not for normal use.
            #[doc(hidden)]
            pub async fn execute_raw(&self, sql: &str) -> $crate::Result<()> {
                sqlx::raw_sql(sql)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.err("running raw SQL", e))?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_migrate;
