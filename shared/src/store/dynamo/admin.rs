//! Table creation, for emulators and local runs: deployed tables come from the
//! SAM template, whose index `tests/tests/template.rs` checks against these names.

use aws_sdk_dynamodb::Client;

use super::items::{BY_DATE, LISTING_ATTRIBUTES};
use super::unavailable;
use crate::error::StoreError;

/// Creates the table and its index as `template.yaml` does.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
    let index = GlobalSecondaryIndex::builder()
        .index_name(BY_DATE)
        .key_schema(key("gsi1pk", KeyType::Hash).map_err(built)?)
        .key_schema(key("gsi1sk", KeyType::Range).map_err(built)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    LISTING_ATTRIBUTES.iter().map(|s| (*s).to_owned()).collect(),
                ))
                .build(),
        )
        .build()
        .map_err(built)?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk").map_err(built)?)
        .attribute_definitions(attr("sk").map_err(built)?)
        .attribute_definitions(attr("gsi1pk").map_err(built)?)
        .attribute_definitions(attr("gsi1sk").map_err(built)?)
        .key_schema(key("pk", KeyType::Hash).map_err(built)?)
        .key_schema(key("sk", KeyType::Range).map_err(built)?)
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(|e| unavailable("creating the table", e))?;
    Ok(())
}
