//! What made the stored HTML and the pages around it, derived at build time by
//! `build.rs` from the code, templates and locked crates that decide them. A
//! deployed site records the versions its posts and cached pages were made with;
//! a deploy whose versions differ re-renders the posts and invalidates the CDN once
//! (`crate::rerender`).

/// The renderer: Markdown, highlighting, comrak's and syntect's versions. Every
/// stored post carries the one that rendered it.
pub const RENDERER: &str = env!("BLOG_RENDERER_VERSION");

/// The pages: templates, styles, the code that fills them, and the renderer.
pub const PAGES: &str = env!("BLOG_PAGES_VERSION");
