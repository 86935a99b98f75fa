//! `App`: settings, templates and stores, built once per process and borrowed by
//! every request.

use std::sync::Arc;

use crate::config::Config;
use crate::error::RenderError;
use crate::render::Templates;

/// Everything a handler needs.
#[derive(Debug)]
pub struct App<P, A> {
    /// Site settings.
    pub config: Config,
    /// Parsed templates and the CSP that goes with them.
    pub templates: Templates,
    /// Post storage.
    pub posts: Arc<P>,
    /// Asset storage (often the same store as `posts`: see [`App::one_store`]).
    pub assets: Arc<A>,
}

impl<P, A> App<P, A> {
    /// Parses the templates and assembles the app.
    pub fn new(config: Config, posts: P, assets: A) -> Result<Self, RenderError> {
        Self::assemble(config, Arc::new(posts), Arc::new(assets))
    }

    fn assemble(config: Config, posts: Arc<P>, assets: Arc<A>) -> Result<Self, RenderError> {
        let templates = Templates::new(&config)?;
        Ok(Self {
            config,
            templates,
            posts,
            assets,
        })
    }
}

impl<S> App<S, S> {
    /// An app whose one store serves posts and assets (the filesystem store does).
    pub fn one_store(config: Config, store: S) -> Result<Self, RenderError> {
        let store = Arc::new(store);
        Self::assemble(config, store.clone(), store)
    }
}
