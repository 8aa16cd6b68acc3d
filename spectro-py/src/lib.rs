//! Python binding for `spectro-packs`. The pyo3 module arrives with its own issue; for
//! now this crate only re-exports the library so the workspace layout is complete.

pub use spectro_packs::validate_pack;
