//! `App`: settings, templates and stores, built once per process and borrowed by
//! every request.

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
    pub posts: P,
    /// Asset storage.
    pub assets: A,
}

impl<P, A> App<P, A> {
    /// Parses the templates and assembles the app.
    pub fn new(config: Config, posts: P, assets: A) -> Result<Self, RenderError> {
        let templates = Templates::new(&config)?;
        Ok(Self {
            config,
            templates,
            posts,
            assets,
        })
    }
}
