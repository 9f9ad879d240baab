//! The JSON Schema of cluster.yaml, for editors (yaml-language-server) and `strato config schema`.
use schemars::gen::SchemaSettings;

use crate::Cluster;

/// The schema as JSON (draft 7). Optional keys are not nullable: `key:` with no value is an error
/// in `strato validate`, so the schema says so too.
pub fn json_schema() -> serde_json::Value {
    let settings = SchemaSettings::draft07().with(|s| s.option_add_null_type = false);
    let schema = settings.into_generator().into_root_schema_for::<Cluster>();
    serde_json::to_value(schema).expect("a schemars schema always serializes to JSON")
}
