//! Error types, one per layer. `AppError` wraps them; `http::problem` is the only
//! place an error becomes a status code (pages and the API both go through it).

use std::fmt;

/// Bad author input: front matter, slugs, Markdown sources. Says what to fix and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file the input came from, when there is one.
    pub file: Option<String>,
    /// The front matter field at fault, when one is.
    pub field: Option<String>,
    /// 1-based line in the source file.
    pub line: Option<usize>,
    /// What is wrong and what is expected, as a sentence fragment.
    pub message: String,
}

impl InputError {
    /// An error about one field.
    pub fn field(field: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            file: None,
            field: Some(field.to_owned()),
            line,
            message: message.into(),
        }
    }

    /// An error about the document as a whole (not one field).
    pub fn document(line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            file: None,
            field: None,
            line,
            message: message.into(),
        }
    }

    /// The same error, attributed to a file.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "\"{field}\" ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// A storage failure. Not-found is not an error: stores return `Option`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing store could not be read or written.
    #[error("storage is unavailable: {context}")]
    Unavailable {
        /// What was being done.
        context: String,
        /// The cause, logged and never shown to visitors.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Stored data could not be understood (a bug or a manual edit).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A conditional write lost: the item exists, or changed since it was read.
    #[error("{0}")]
    Conflict(String),
    /// An update or delete named a version that is no longer current.
    #[error("{0}")]
    Stale(String),
    /// The item would exceed what the store can hold.
    #[error("{what} is {size} bytes; the store's limit is {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl StoreError {
    /// Wraps an I/O or SDK failure with what was being attempted.
    pub fn unavailable(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// A template failed to load or render: always a bug, never the visitor's fault.
#[derive(Debug, thiserror::Error)]
#[error("template {template} failed")]
pub struct RenderError {
    /// Template name.
    pub template: String,
    /// minijinja's error, with its line.
    #[source]
    pub source: minijinja::Error,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page (or a draft, or a post dated in the future).
    #[error("not found: {path}")]
    NotFound {
        /// The path that was asked for.
        path: String,
    },
    /// The route exists but not for this method.
    #[error("method {method} not allowed; allowed: {allow}")]
    MethodNotAllowed {
        /// The method that was used.
        method: String,
        /// Value for the `Allow` header.
        allow: &'static str,
    },
    /// The request itself is malformed (bad cursor, bad encoding).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No valid publish token.
    #[error("unauthorized")]
    Unauthorized,
    /// The author's input is invalid (front matter, slug, asset name).
    #[error(transparent)]
    Input(#[from] InputError),
    /// A conditional request came without its condition (`If-Match`).
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    /// The request body is over a limit.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The request body has a type this route does not take.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] RenderError),
}
