//! The publish token's home: an SSM Parameter Store `SecureString` named
//! `/<stack>/publish-token`. A standard parameter has no monthly charge and is
//! encrypted with the account's AWS managed key `aws/ssm` (no key charge either),
//! where a Secrets Manager secret costs $0.40 a month whether anyone publishes or not.
//!
//! CloudFormation cannot create a `SecureString` itself (`AWS::SSM::Parameter` takes
//! `String` and `StringList` only), so the template's `PublishToken` custom resource
//! asks the drain function to: on Create it generates a 256-bit token and stores it
//! (never overwriting one already there, which its IAM policy denies too), on Delete
//! it removes it. The answer to
//! CloudFormation carries the parameter's name, never the token. The publish
//! function reads the token at cold start ([`read`]).

use aws_sdk_ssm::types::ParameterType;

use crate::rerender::cloudformation::{Request, RequestType};

/// The custom resource type the template gives `PublishToken`: the drain answers
/// requests of this type here, and leaves every other request to the re-render.
pub const RESOURCE_TYPE: &str = crate::rerender::cloudformation::TOKEN_RESOURCE_TYPE;

/// The physical id of a Create that failed: its Delete has nothing to remove.
const NOT_CREATED: &str = "publish-token-not-created";

/// Reads the token from parameter `name`, decrypted. Errors name the parameter,
/// never its value.
pub async fn read(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<String, String> {
    get(ssm, name, true)
        .await?
        .value
        .ok_or_else(|| format!("the publish token's parameter {name} has no value"))
}

/// Parameter `name`, its value decrypted or not.
async fn get(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
    decrypt: bool,
) -> Result<aws_sdk_ssm::types::Parameter, String> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(decrypt)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading the publish token's parameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        })?;
    out.parameter
        .ok_or_else(|| format!("the publish token's parameter {name} is empty"))
}

/// Whether `request` is for the publish token's resource.
pub fn is_for_token(request: &Request) -> bool {
    request.resource_type == RESOURCE_TYPE
}

/// Carries out a `PublishToken` request; returns the answer for CloudFormation.
pub async fn on_request(ssm: &aws_sdk_ssm::Client, request: &Request) -> serde_json::Value {
    let name = request.resource_properties["Name"]
        .as_str()
        .unwrap_or_default();
    let existing = request
        .physical_resource_id
        .as_deref()
        .filter(|id| *id != NOT_CREATED);
    match request.request_type {
        // A new name (on Update) is a replacement: CloudFormation then sends a
        // Delete for the old one.
        RequestType::Create | RequestType::Update if existing != Some(name) => {
            match create(ssm, name).await {
                Ok(reason) => {
                    request.respond(Ok(reason), name, serde_json::json!({ "Name": name }))
                }
                Err(why) => request.respond(
                    Err(why),
                    existing.unwrap_or(NOT_CREATED),
                    serde_json::json!({}),
                ),
            }
        }
        RequestType::Create | RequestType::Update => request.respond(
            Ok("the publish token is unchanged".into()),
            name,
            serde_json::json!({ "Name": name }),
        ),
        // Only the parameter this resource names: a physical id from anywhere else
        // (a Create that timed out before answering) is not ours to delete.
        RequestType::Delete => match existing.filter(|old| *old == name) {
            Some(old) => match delete(ssm, old).await {
                Ok(()) => request.respond(Ok(format!("deleted {old}")), old, serde_json::json!({})),
                Err(why) => request.respond(Err(why), old, serde_json::json!({})),
            },
            None => request.respond(
                Ok("nothing was created".into()),
                request
                    .physical_resource_id
                    .as_deref()
                    .unwrap_or(NOT_CREATED),
                serde_json::json!({}),
            ),
        },
    }
}

async fn create(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<String, String> {
    if !name.starts_with('/') || name.len() < 2 {
        return Err(format!(
            "the Name property must be a parameter path such as /<stack>/publish-token, not {name:?}"
        ));
    }
    let token = fresh_token().map_err(|e| format!("no randomness for the token: {e}"))?;
    let put = ssm
        .put_parameter()
        .name(name)
        .description("The blog's publish API: the bearer token (blog publish, curl).")
        .value(token)
        .r#type(ParameterType::SecureString)
        .overwrite(false)
        .send()
        .await;
    match put {
        Ok(_) => Ok(format!("stored a new publish token in {name}")),
        // Kept, never replaced: the author may already use it. Only if it is a
        // SecureString, though: a plain String there was not made by this resource.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_parameter_already_exists()) =>
        {
            match get(ssm, name, false).await?.r#type {
                Some(ParameterType::SecureString) => {
                    Ok(format!("kept the publish token already in {name}"))
                }
                other => Err(format!(
                    "{name} already exists as a {} parameter, not a SecureString: delete it \
                     (aws ssm delete-parameter --name {name}) and deploy again",
                    other.map_or("typeless".to_owned(), |t| t.as_str().to_owned())
                )),
            }
        }
        Err(e) => Err(format!(
            "storing the publish token in {name}: {}",
            aws_sdk_ssm::error::DisplayErrorContext(e)
        )),
    }
}

async fn delete(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<(), String> {
    match ssm.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()) =>
        {
            Ok(())
        }
        Err(e) => Err(format!(
            "deleting the publish token's parameter {name}: {}",
            aws_sdk_ssm::error::DisplayErrorContext(e)
        )),
    }
}

/// 256 random bits as 64 hex digits (what `blog serve` generates for itself too).
fn fresh_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
