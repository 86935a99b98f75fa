//! Site settings: one validated `Config`, from defaults, an optional `blog.toml`, and
//! `BLOG_*` environment variables (which win; the SAM template sets them for Lambda).

/// Why the settings were refused: names the setting and what it must be.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("setting {key} (environment variable {env}): {message}")]
pub struct ConfigError {
    /// Key in `blog.toml`.
    pub key: &'static str,
    /// The environment variable that sets it.
    pub env: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Validated site settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Site title, shown in the header, feeds and `<title>`.
    pub title: String,
    /// One-line description for the home page's meta tags and feeds.
    pub description: String,
    /// Author name for feeds and JSON-LD.
    pub author: String,
    /// Public origin, without a trailing slash, e.g. `https://blog.example.com`;
    /// empty for site-relative links when the public URL is not known yet.
    pub base_url: String,
    /// `lang` of pages and feeds.
    pub language: String,
    /// Posts per listing page.
    pub per_page: usize,
    /// Entries per feed.
    pub feed_entries: usize,
    /// Seconds browsers may keep pages (`max-age`); 0 means revalidate each time.
    pub browser_max_age: u32,
    /// Seconds a CDN may keep pages (`s-maxage`); publish invalidates them sooner.
    pub cdn_max_age: u32,
    /// The IANA time zone a front matter date without an offset is read in
    /// (`Europe/Berlin`); checked where posts are compiled.
    pub timezone: String,
}

/// (toml key, environment variable)
const KEYS: [(&str, &str); 10] = [
    ("title", "BLOG_TITLE"),
    ("description", "BLOG_DESCRIPTION"),
    ("author", "BLOG_AUTHOR"),
    ("base_url", "BLOG_BASE_URL"),
    ("language", "BLOG_LANGUAGE"),
    ("per_page", "BLOG_PER_PAGE"),
    ("feed_entries", "BLOG_FEED_ENTRIES"),
    ("browser_max_age", "BLOG_BROWSER_MAX_AGE"),
    ("cdn_max_age", "BLOG_CDN_MAX_AGE"),
    ("timezone", "BLOG_TIMEZONE"),
];

impl Default for Config {
    fn default() -> Self {
        Self {
            title: "A Serverless Blog".into(),
            description: "Notes on building things, served by Rust on AWS Lambda.".into(),
            author: "The Author".into(),
            base_url: "http://127.0.0.1:3000".into(),
            language: "en".into(),
            per_page: 10,
            feed_entries: 20,
            browser_max_age: 300,
            cdn_max_age: 86_400,
            timezone: "UTC".into(),
        }
    }
}

impl Config {
    /// Settings from the process environment only (Lambda).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Defaults overridden by `env` (a lookup of `BLOG_*` variables), validated.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let values: Vec<_> = KEYS.iter().map(|(k, e)| (*k, *e, env(e))).collect();
        Self::from_values(Self::default(), &values)
    }

    /// `defaults`, then `toml_text` (a `blog.toml`), then `env`, validated.
    #[cfg(feature = "authoring")]
    pub fn load(
        defaults: Self,
        toml_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut values: Vec<(&'static str, &'static str, Option<String>)> =
            KEYS.iter().map(|(k, e)| (*k, *e, None)).collect();
        if let Some(text) = toml_text {
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
                key: "blog.toml",
                env: "-",
                message: format!("is not valid TOML: {}", e.message()),
            })?;
            for (key, value) in table {
                let slot = values
                    .iter_mut()
                    .find(|(k, _, _)| *k == key)
                    .ok_or(ConfigError {
                        key: "blog.toml",
                        env: "-",
                        message: format!(
                            "unknown key \"{key}\"; known keys: {}",
                            KEYS.map(|(k, _)| k).join(", ")
                        ),
                    })?;
                slot.2 = Some(match value {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                });
            }
        }
        for (_, env_name, slot) in values.iter_mut() {
            if let Some(v) = env(env_name) {
                *slot = Some(v);
            }
        }
        Self::from_values(defaults, &values)
    }

    fn from_values(
        d: Self,
        values: &[(&'static str, &'static str, Option<String>)],
    ) -> Result<Self, ConfigError> {
        const YEAR: u64 = 31_536_000;
        let v = Values(values);
        // Checked in this order, so the first error reported stays the same.
        let base_url = v.base_url(d.base_url)?;
        let language = v.language(d.language)?;
        let per_page = v.number("per_page", d.per_page as u64, 100)?;
        let feed_entries = v.number("feed_entries", d.feed_entries as u64, 100)?;
        for (key, n) in [("per_page", per_page), ("feed_entries", feed_entries)] {
            if n == 0 {
                return Err(v.err(key, "must be at least 1".into()));
            }
        }
        Ok(Self {
            title: v.text("title", d.title)?,
            description: v.text("description", d.description)?,
            author: v.text("author", d.author)?,
            base_url,
            language,
            per_page: per_page as usize,
            feed_entries: feed_entries as usize,
            browser_max_age: v.number("browser_max_age", d.browser_max_age.into(), YEAR)? as u32,
            cdn_max_age: v.number("cdn_max_age", d.cdn_max_age.into(), YEAR)? as u32,
            timezone: v.timezone(d.timezone)?,
        })
    }

    /// Settings for tests: defaults with a fixed public origin.
    pub fn for_test() -> Self {
        Self {
            base_url: "https://blog.test".into(),
            ..Self::default()
        }
    }

    /// The site's time zone (checked when the settings were loaded).
    #[cfg(feature = "authoring")]
    pub fn zone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// Host part of the base URL, used in feed ids (`localhost` when it is empty).
    pub fn host(&self) -> &str {
        match self.base_url.split_once("://") {
            Some((_, host)) => host,
            None => "localhost",
        }
    }
}

/// Raw settings by key (toml key, environment variable, value), checked one by one.
struct Values<'a>(&'a [(&'static str, &'static str, Option<String>)]);

impl Values<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _, _)| *k == key)
            .and_then(|(_, _, v)| v.as_deref())
    }

    fn err(&self, key: &'static str, message: String) -> ConfigError {
        let env = KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("-", |(_, e)| *e);
        ConfigError { key, env, message }
    }

    /// An IANA time zone name. Processes that compile posts check it against the
    /// time zone database; the read functions, which never read a date from front
    /// matter, do not carry the database.
    fn timezone(&self, default: String) -> Result<String, ConfigError> {
        let name = self.text("timezone", default)?;
        #[cfg(feature = "authoring")]
        if name.parse::<chrono_tz::Tz>().is_err() {
            return Err(self.err(
                "timezone",
                format!("must be an IANA time zone such as UTC, Europe/Berlin or America/New_York, got \"{name}\""),
            ));
        }
        Ok(name)
    }

    fn text(&self, key: &'static str, default: String) -> Result<String, ConfigError> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some("") => Err(self.err(key, "must not be empty".into())),
            Some(v) => Ok(v.to_owned()),
        }
    }

    fn number(&self, key: &'static str, default: u64, max: u64) -> Result<u64, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.trim().parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(self.err(
                key,
                format!("must be a whole number from 0 to {max}, got \"{v}\""),
            )),
        }
    }

    fn base_url(&self, default: String) -> Result<String, ConfigError> {
        let base_url = match self.get("base_url").map(str::trim) {
            // Empty: links stay site-relative until the public URL is known (a first
            // deploy on the CloudFront domain, before SiteUrl is set).
            Some("") => String::new(),
            Some(v) => v.trim_end_matches('/').to_owned(),
            None => default,
        };
        let scheme_ok = base_url.starts_with("https://") || base_url.starts_with("http://");
        let host = base_url.split_once("://").map(|(_, h)| h).unwrap_or("");
        if !base_url.is_empty()
            && (!scheme_ok || host.is_empty() || host.contains(['/', '?', '#', ' ']))
        {
            return Err(self.err(
                "base_url",
                format!("must be an origin such as https://blog.example.com (no path), got \"{base_url}\""),
            ));
        }
        Ok(base_url)
    }

    fn language(&self, default: String) -> Result<String, ConfigError> {
        let language = self.text("language", default)?;
        let tag_chars = language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if language.len() < 2 || !tag_chars {
            return Err(self.err(
                "language",
                format!("must be a language tag such as en or pt-BR, got \"{language}\""),
            ));
        }
        Ok(language)
    }
}

/// A lookup over fixed (variable, value) pairs, standing in for the environment.
#[cfg(test)]
pub(crate) fn lookup(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[cfg(all(test, feature = "authoring"))]
mod tests {
    use super::*;

    use super::lookup as env;

    #[test]
    fn defaults_then_file_then_environment() {
        assert_eq!(
            Config::load(Config::default(), None, env(&[])).unwrap(),
            Config::default()
        );
        let file = "title = \"From file\"\nper_page = 5\nauthor = \"Ann\"\n";
        let c = Config::load(
            Config::default(),
            Some(file),
            env(&[
                ("BLOG_TITLE", "From env"),
                ("BLOG_BASE_URL", "https://x.example/"),
            ]),
        )
        .unwrap();
        assert_eq!(c.title, "From env");
        assert_eq!(c.author, "Ann");
        assert_eq!(c.per_page, 5);
        assert_eq!(c.base_url, "https://x.example");
        assert_eq!(c.host(), "x.example");
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let cases: [(&'static [(&'static str, &'static str)], &str); 6] = [
            (&[("BLOG_PER_PAGE", "0")], "per_page"),
            (&[("BLOG_PER_PAGE", "ten")], "per_page"),
            (&[("BLOG_BASE_URL", "blog.example.com")], "base_url"),
            (&[("BLOG_BASE_URL", "https://x.example/blog")], "base_url"),
            (&[("BLOG_TITLE", "  ")], "title"),
            (&[("BLOG_TIMEZONE", "Mars/Olympus")], "timezone"),
        ];
        for (vars, key) in cases {
            let e = Config::load(Config::default(), None, env(vars)).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e.to_string().contains(e.env), "{e}");
        }
        let relative =
            Config::load(Config::default(), None, env(&[("BLOG_BASE_URL", "")])).unwrap();
        assert_eq!(relative.base_url, "");
        assert_eq!(relative.host(), "localhost");
        let berlin = Config::load(
            Config::default(),
            Some("timezone = \"Europe/Berlin\""),
            env(&[]),
        )
        .unwrap();
        assert_eq!(berlin.zone(), chrono_tz::Tz::Europe__Berlin);
        assert_eq!(Config::default().zone(), chrono_tz::Tz::UTC);
        let e = Config::load(Config::default(), Some("titel = \"x\""), env(&[])).unwrap_err();
        assert!(e.message.contains("unknown key \"titel\""), "{e}");
    }
}
