//! Points in time. Dagster stores and reports every time as float seconds since the Unix epoch
//! (Python's `time.time()`); [`Timestamp`] is a real time type (a [`jiff::Timestamp`]) that is
//! serialised, stored and read back in exactly that form, so no stored or wire format changes.
//!
//! Precision: an `f64` near today's epoch seconds resolves about a quarter of a microsecond, finer
//! than Python's clock. [`Timestamp::now`] is rounded to what an `f64` holds, so a time written to
//! the database (or sent as JSON) reads back equal to itself.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_SEC: f64 = 1_000_000_000.0;

/// A point in time, with nanosecond resolution, in the range `jiff` supports (years -9999 to 9999).
///
/// Serialised as float seconds since the Unix epoch, as Dagster stores times; shown (`Display`) in
/// RFC 3339 (`2026-12-05T07:19:30.5Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00Z` (`0.0` seconds).
    pub const UNIX_EPOCH: Timestamp = Timestamp(jiff::Timestamp::UNIX_EPOCH);
    /// The earliest time there is (before every real time; `-9999-01-02`).
    pub const MIN: Timestamp = Timestamp(jiff::Timestamp::MIN);
    /// The latest time there is (`9999-12-30`).
    pub const MAX: Timestamp = Timestamp(jiff::Timestamp::MAX);

    /// The current time, rounded to what `f64` seconds hold (so it survives storage unchanged).
    pub fn now() -> Self {
        Self::from_secs_f64(Timestamp(jiff::Timestamp::now()).as_secs_f64())
    }

    /// The time `secs` seconds after the Unix epoch (negative: before). Saturates at the ends of
    /// the supported range; NaN is the epoch. Stored and received times never fail to read.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_nan() {
            return Self::UNIX_EPOCH;
        }
        Self::try_from_secs_f64(secs).unwrap_or(if secs > 0.0 { Self::MAX } else { Self::MIN })
    }

    /// [`Timestamp::from_secs_f64`], or `None` when `secs` is not finite or out of range.
    pub fn try_from_secs_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() {
            return None;
        }
        // Split before scaling: `secs * 1e9` would round away the nanoseconds of today's times.
        let whole = secs.floor();
        let mut nanos = ((secs - whole) * NANOS_PER_SEC).round() as i128;
        let mut whole = whole as i128;
        if nanos >= 1_000_000_000 {
            whole += 1;
            nanos -= 1_000_000_000;
        }
        let total = whole.checked_mul(1_000_000_000)?.checked_add(nanos)?;
        jiff::Timestamp::from_nanosecond(total).ok().map(Timestamp)
    }

    /// Seconds since the Unix epoch, as Dagster stores them.
    ///
    /// Correctly rounded (the `f64` nearest to the exact nanosecond time), so that
    /// `from_secs_f64(t.as_secs_f64())` is `t` for every time [`Timestamp::now`] returns; a sum of
    /// whole and fractional seconds would round twice and be off by one unit now and then.
    pub fn as_secs_f64(self) -> f64 {
        use std::io::Write as _;
        let nanos = self.0.as_nanosecond();
        let sign = if nanos < 0 { "-" } else { "" };
        let (whole, frac) = (
            nanos.unsigned_abs() / 1_000_000_000,
            nanos.unsigned_abs() % 1_000_000_000,
        );
        // Rust parses decimal text to the nearest `f64`, and this text is the time exactly; it is
        // written on the stack (at most 1 + 20 + 1 + 9 bytes), as this runs for every stored event.
        let mut buf = [0u8; 32];
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        let written = write!(cursor, "{sign}{whole}.{frac:09}");
        let len = cursor.position() as usize;
        written
            .ok()
            .and_then(|()| std::str::from_utf8(&buf[..len]).ok())
            .and_then(|text| text.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// The `jiff` timestamp, for calendar and time-zone arithmetic.
    pub fn as_jiff(self) -> jiff::Timestamp {
        self.0
    }

    /// Seconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        self.as_secs_f64() - earlier.as_secs_f64()
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        Duration::try_from(self.0.duration_since(earlier.0)).unwrap_or(Duration::ZERO)
    }

    /// `self` moved by `secs` seconds (negative: back), saturating at the ends of the range.
    pub fn add_secs_f64(self, secs: f64) -> Self {
        Self::from_secs_f64(self.as_secs_f64() + secs)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(ts: jiff::Timestamp) -> Self {
        Timestamp(ts)
    }
}

impl From<Timestamp> for jiff::Timestamp {
    fn from(ts: Timestamp) -> Self {
        ts.0
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// Saturates at the end of the supported range.
    fn add(self, rhs: Duration) -> Timestamp {
        jiff::SignedDuration::try_from(rhs)
            .ok()
            .and_then(|d| self.0.checked_add(d).ok())
            .map_or(Self::MAX, Timestamp)
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;

    /// Saturates at the start of the supported range.
    fn sub(self, rhs: Duration) -> Timestamp {
        jiff::SignedDuration::try_from(rhs)
            .ok()
            .and_then(|d| self.0.checked_sub(d).ok())
            .map_or(Self::MIN, Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_secs_f64())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        f64::deserialize(deserializer).map(Timestamp::from_secs_f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_round_trip() {
        for secs in [
            0.0,
            1.0,
            2.5,
            -1.5,
            1_733_390_000.0,
            1_733_390_000.123_456,
            1e-3,
        ] {
            let ts = Timestamp::from_secs_f64(secs);
            assert_eq!(ts.as_secs_f64(), secs, "{secs}");
            assert_eq!(Timestamp::from_secs_f64(ts.as_secs_f64()), ts);
        }
    }

    #[test]
    fn now_survives_a_round_trip_through_f64_and_json() {
        // 10,000 tries: a conversion that rounds twice, or JSON parsed without `float_roundtrip`,
        // is off by one unit for a few in a thousand.
        for _ in 0..10_000 {
            let now = Timestamp::now();
            assert_eq!(Timestamp::from_secs_f64(now.as_secs_f64()), now);
            let json = serde_json::to_string(&now).unwrap();
            assert_eq!(
                serde_json::from_str::<Timestamp>(&json).unwrap(),
                now,
                "{json}"
            );
        }
    }

    #[test]
    fn serialises_as_float_seconds() {
        let ts = Timestamp::from_secs_f64(1_700_000_000.25);
        assert_eq!(serde_json::to_string(&ts).unwrap(), "1700000000.25");
        assert_eq!(
            serde_json::from_str::<Timestamp>("1700000000").unwrap(),
            Timestamp::from_secs_f64(1.7e9)
        );
        assert_eq!(ts.to_string(), "2023-11-14T22:13:20.25Z");
    }

    #[test]
    fn out_of_range_saturates() {
        assert_eq!(Timestamp::from_secs_f64(f64::NAN), Timestamp::UNIX_EPOCH);
        assert!(Timestamp::from_secs_f64(1e300) > Timestamp::now());
        assert!(Timestamp::from_secs_f64(f64::NEG_INFINITY) < Timestamp::UNIX_EPOCH);
        assert_eq!(Timestamp::try_from_secs_f64(f64::INFINITY), None);
    }

    #[test]
    fn arithmetic_orders_and_measures() {
        let a = Timestamp::from_secs_f64(100.0);
        let b = a + Duration::from_millis(1500);
        assert!(b > a);
        assert_eq!(b.as_secs_f64(), 101.5);
        assert_eq!(b.secs_since(a), 1.5);
        assert_eq!(a.secs_since(b), -1.5);
        assert_eq!(b.duration_since(a), Duration::from_millis(1500));
        assert_eq!(a.duration_since(b), Duration::ZERO);
        assert_eq!(b - Duration::from_millis(1500), a);
        assert_eq!(a.add_secs_f64(-0.5).as_secs_f64(), 99.5);
    }
}
