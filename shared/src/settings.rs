//! Every deployment input in one validated type: the site's settings and where its
//! posts, assets and publish token live. Each refusal names its variable.

use crate::config::{Config, ConfigError};

/// Everything a process reads from its environment to run the site.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site: `blog.toml` and the `BLOG_*` site variables.
    pub site: Config,
    /// `BLOG_TABLE`: the DynamoDB table (every function).
    table: Option<String>,
    /// `BLOG_BUCKET`: the S3 bucket for assets (the publish function, `blog serve --store dynamo`).
    bucket: Option<String>,
    /// `BLOG_TOKEN_PARAMETER`: the SSM parameter holding the publish token (the
    /// publish function).
    token_parameter: Option<String>,
    /// `BLOG_DISTRIBUTION_ID`: the CloudFront distribution the drain invalidates.
    distribution: Option<String>,
    /// `BLOG_SCHEDULE_GROUP`, `BLOG_SCHEDULE_TARGET`, `BLOG_SCHEDULE_ROLE`: where
    /// scheduled posts' schedules go, the function they invoke and the role they
    /// invoke it as (the publish function).
    schedule: [Option<String>; 3],
    /// `BLOG_TOKEN`: the publish token `blog serve` takes (it makes one when unset).
    #[cfg(feature = "publish")]
    token: Option<crate::auth::Token>,
}

impl Settings {
    /// A Lambda function's settings: the process environment only.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(Config::from_env()?, |k| std::env::var(k).ok())
    }

    /// `site`, with the deployment variables from `env`. Unset or blank variables
    /// are refused only by the accessor of the process that needs them.
    pub fn from_lookup(
        site: Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        #[cfg(feature = "publish")]
        // Set but blank is a mistake to report, not "unset".
        let token = env("BLOG_TOKEN")
            .map(|t| {
                crate::auth::Token::new(&t).map_err(|e| ConfigError {
                    key: "token",
                    env: "BLOG_TOKEN",
                    message: e.to_string(),
                })
            })
            .transpose()?;
        Ok(Self {
            site,
            table: get("BLOG_TABLE"),
            bucket: get("BLOG_BUCKET"),
            token_parameter: get("BLOG_TOKEN_PARAMETER"),
            distribution: get("BLOG_DISTRIBUTION_ID"),
            schedule: [
                get("BLOG_SCHEDULE_GROUP"),
                get("BLOG_SCHEDULE_TARGET"),
                get("BLOG_SCHEDULE_ROLE"),
            ],
            #[cfg(feature = "publish")]
            token,
        })
    }

    /// The table; every process on DynamoDB needs it.
    pub fn table(&self) -> Result<&str, ConfigError> {
        required(&self.table, "table", "BLOG_TABLE", "locally pass --table")
    }

    /// The asset bucket.
    pub fn bucket(&self) -> Result<&str, ConfigError> {
        required(
            &self.bucket,
            "bucket",
            "BLOG_BUCKET",
            "locally pass --bucket",
        )
    }

    /// The name of the publish token's parameter.
    pub fn token_parameter(&self) -> Result<&str, ConfigError> {
        required(
            &self.token_parameter,
            "token_parameter",
            "BLOG_TOKEN_PARAMETER",
            "it names the publish token's SSM parameter, `/<stack>/publish-token`",
        )
    }

    /// The CloudFront distribution to invalidate.
    pub fn distribution(&self) -> Result<&str, ConfigError> {
        required(
            &self.distribution,
            "distribution",
            "BLOG_DISTRIBUTION_ID",
            "it is the stack's DistributionId output",
        )
    }

    /// The schedule group, the drain function's ARN and the scheduler role's ARN.
    pub fn schedules(&self) -> Result<[&str; 3], ConfigError> {
        let hint = "the SAM template sets it for the publish function";
        Ok([
            required(
                &self.schedule[0],
                "schedule_group",
                "BLOG_SCHEDULE_GROUP",
                hint,
            )?,
            required(
                &self.schedule[1],
                "schedule_target",
                "BLOG_SCHEDULE_TARGET",
                hint,
            )?,
            required(
                &self.schedule[2],
                "schedule_role",
                "BLOG_SCHEDULE_ROLE",
                hint,
            )?,
        ])
    }

    /// The publish token chosen for a local server, if one was.
    #[cfg(feature = "publish")]
    pub fn token(&self) -> Option<&crate::auth::Token> {
        self.token.as_ref()
    }
}

fn required<'a>(
    value: &'a Option<String>,
    key: &'static str,
    env: &'static str,
    hint: &str,
) -> Result<&'a str, ConfigError> {
    value.as_deref().ok_or_else(|| ConfigError {
        key,
        env,
        message: format!(
            "is not set: the SAM template sets it for each function that needs it; {hint}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::lookup;

    #[test]
    fn each_missing_setting_names_its_variable() {
        let s = Settings::from_lookup(
            Config::for_test(),
            lookup(&[("BLOG_TABLE", "posts"), ("BLOG_BUCKET", " ")]),
        )
        .unwrap();
        assert_eq!(s.table().unwrap(), "posts");
        assert_eq!(s.bucket().unwrap_err().env, "BLOG_BUCKET");
        assert_eq!(s.token_parameter().unwrap_err().env, "BLOG_TOKEN_PARAMETER");
        let none = Settings::from_lookup(Config::for_test(), lookup(&[])).unwrap();
        assert!(none.table().unwrap_err().to_string().contains("BLOG_TABLE"));
    }

    #[cfg(feature = "publish")]
    #[test]
    fn a_weak_token_is_refused_by_name() {
        let err = Settings::from_lookup(Config::for_test(), lookup(&[("BLOG_TOKEN", "short")]))
            .unwrap_err();
        assert_eq!(err.env, "BLOG_TOKEN");
    }
}
