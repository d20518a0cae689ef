//! Schedules and sensors turned into run requests.
