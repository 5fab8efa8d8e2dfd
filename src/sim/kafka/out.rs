//! What an actor's handler did, in order: the effects the engine carries out as recorded. One
//! shape for every actor — each names its own `Effect` (and says how an event becomes one).

use crate::sim::event::EventKind;

/// The effects of one handler, in the order it recorded them.
#[derive(Clone, Debug)]
pub struct Out<E> {
    pub effects: Vec<E>,
}

impl<E> Default for Out<E> {
    fn default() -> Self {
        Out { effects: Vec::new() }
    }
}

impl<E> Out<E> {
    pub(crate) fn push(&mut self, effect: E) {
        self.effects.push(effect);
    }
}

impl<E: From<EventKind>> Out<E> {
    /// Records an event.
    pub(crate) fn event(&mut self, e: EventKind) {
        self.effects.push(e.into());
    }
}
