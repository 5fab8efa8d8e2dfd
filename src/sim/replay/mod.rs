//! Runs as data: a run is an experiment, a seed and the user's commands; [`link`] carries it in a
//! share link (read by [`wire`]), [`timeline`] travels back and forth in it, [`compare`] plays a
//! what-if beside it.

pub mod compare;
pub mod lane;
pub mod link;
pub mod timeline;
pub mod value;
pub mod wire;
