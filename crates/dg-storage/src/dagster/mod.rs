pub mod serdes;
