//! Command-line shape (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A serverless blog: write Markdown, preview locally, publish to AWS.
#[derive(Debug, Parser)]
#[command(name = "blog", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for `serve` when no subcommand is given (`blog --port 8080`).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the blog on 127.0.0.1 from a folder of Markdown posts (live preview).
    Serve(ServeArgs),
    /// Write a new post skeleton with a slug and today's date.
    New(NewArgs),
    /// Publish Markdown files to the site (creates, or updates at the current version).
    Publish(PublishArgs),
    /// Publish a Flask-FlatPages, Jekyll, Hugo or Zola blog with its images and old
    /// addresses, or put back what `blog export` wrote.
    Import(ImportArgs),
    /// Write every post, served file and original upload of a site into a folder
    /// (`blog import` of it puts the site back as it was).
    Export(ExportArgs),
    /// Delete a post.
    Delete(DeleteArgs),
    /// Upload an image and print the Markdown that shows it.
    Upload(UploadArgs),
    /// Show the CDN invalidations queued, held and recently sent.
    Status(StatusArgs),
    /// Show which renderer made the stored posts, and re-render those an older one
    /// made (a deploy does it by itself; this finishes it now).
    Rerender(RerenderArgs),
}

/// Options of `blog rerender`.
#[derive(Debug, Args)]
pub struct RerenderArgs {
    /// Only show the versions and the posts an older renderer made.
    #[arg(long)]
    pub check: bool,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Where the publish API is and how to reach it.
#[derive(Debug, Args)]
pub struct Remote {
    /// The site's URL (the API is under /api/); the deployed stack prints it as SiteUrl.
    #[arg(long, env = "BLOG_ENDPOINT")]
    pub endpoint: String,
    /// The publish token. Read from the environment only, so it stays out of shell history.
    #[arg(skip = std::env::var("BLOG_TOKEN").ok())]
    pub token: Option<String>,
    /// Most requests a second: under the deployed /api/* route's throttle (5 a
    /// second, burst 10), so bulk runs are not refused with 429.
    #[arg(long, env = "BLOG_API_RATE", default_value_t = 4.0)]
    pub rate: f64,
}

/// Options of `blog publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Markdown files with front matter.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A blog's folder (searched recursively for .md and .markdown files), or a
    /// folder `blog export` wrote.
    pub dir: PathBuf,
    /// Print what would be created, updated, uploaded and aliased, and every
    /// warning; write nothing (only the site's list of posts is read).
    #[arg(long)]
    pub dry_run: bool,
    /// For files without front matter: the title from the first heading, the date
    /// from the file's name, its git history or its modification time.
    #[arg(long)]
    pub infer: bool,
    /// The address each post had, to redirect from (repeatable), e.g.
    /// `/blog/{slug}` or `/{year}/{month}/{name}.html`; replaces the engine's own.
    #[arg(long, value_name = "PATTERN")]
    pub old_urls: Vec<String>,
    /// The engine the folder was written for, when the guess from its files is wrong.
    #[arg(long, value_enum)]
    pub engine: Option<crate::cmd::Engine>,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A new or empty folder.
    pub dir: PathBuf,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The post's slug, or the path of its source file (its slug is read from it).
    pub slug: String,
    /// A post that is not there is not an error (a pipeline run again).
    #[arg(long)]
    pub missing_ok: bool,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// A PNG, JPEG, GIF, WebP or AVIF image.
    pub file: PathBuf,
    /// The API.
    #[command(flatten)]
    pub remote: Remote,
}

/// Options of `blog serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 3000, env = "BLOG_PORT")]
    pub port: u16,
    /// Folder of posts (`*.md`) with assets under `assets/`.
    #[arg(long, default_value = "content", env = "BLOG_CONTENT")]
    pub content: PathBuf,
    /// Site settings file (optional; `BLOG_*` variables override it).
    #[arg(long, default_value = "blog.toml")]
    pub config: PathBuf,
    /// Open the site in a browser once it is up.
    #[arg(long)]
    pub open: bool,
    /// Where posts come from: the content folder, or DynamoDB + S3 as deployed
    /// (endpoint, region and credentials from the usual AWS_* variables).
    #[arg(long, value_enum, default_value_t = Store::Fs, env = "BLOG_STORE")]
    pub store: Store,
    /// DynamoDB table, with `--store dynamo`.
    #[arg(long, env = "BLOG_TABLE")]
    pub table: Option<String>,
    /// S3 bucket for assets, with `--store dynamo`.
    #[arg(long, env = "BLOG_BUCKET")]
    pub bucket: Option<String>,
    /// With `--store dynamo`: send the publish API's invalidations to this CloudFront
    /// distribution (without it they are only logged).
    #[arg(long, env = "BLOG_DISTRIBUTION_ID")]
    pub distribution: Option<String>,
    /// With `--store dynamo` against an emulator: create the table and bucket if
    /// missing and load this folder's posts and assets into them first.
    #[arg(long, value_name = "DIR")]
    pub seed: Option<PathBuf>,
}

/// Storage behind `blog serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Store {
    /// Markdown files in the content folder (live preview).
    Fs,
    /// DynamoDB and S3, through the same stores the Lambda functions use.
    Dynamo,
}

/// Options of `blog new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The post's title.
    pub title: String,
    /// Folder to write the post into.
    #[arg(long, default_value = "content", env = "BLOG_CONTENT")]
    pub content: PathBuf,
    /// Slug to use instead of one made from the title.
    #[arg(long)]
    pub slug: Option<String>,
    /// Comma-separated tags.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
}
