//! The teaching content: the built-in [`experiments`] and the [`lesson`]s built on them.

pub mod experiments;
pub mod lesson;
pub mod progress;

use crate::sim::scenario::Scenario;

/// An experiment by id; a lesson's id gives its starting cluster with its scripted path.
pub fn find(id: &str) -> Option<Scenario> {
    experiments::all()
        .into_iter()
        .find(|s| s.id == id)
        .or_else(|| lesson::find(id).map(|l| Scenario { script: l.path, summary: l.intro, ..l.scenario }))
}
