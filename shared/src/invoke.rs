//! Lambda's asynchronous invoke, for the functions that hand work to another: webhook
//! deliveries to the sender (the automations function and the scheduler), changed requests to
//! the search indexer (the automations function). The invocation is queued by Lambda; the
//! caller waits only for that.

use crate::app::{ConfigError, Invoke};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaInvoker {
    /// The function named by the environment variable `variable` (its name or ARN), read once
    /// at cold start.
    pub fn from_env(sdk: &aws_config::SdkConfig, variable: &str) -> Result<LambdaInvoker, ConfigError> {
        let function = std::env::var(variable)
            .ok()
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| ConfigError::new(format!("{variable} must be set")))?;
        Ok(LambdaInvoker { client: aws_sdk_lambda::Client::new(sdk), function })
    }
}

#[async_trait::async_trait]
impl Invoke for LambdaInvoker {
    async fn invoke(&self, payload: serde_json::Value) -> Result<(), String> {
        let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    }
}
