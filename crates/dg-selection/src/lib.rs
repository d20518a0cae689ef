//! Dagster asset selection language: parser and evaluator.
