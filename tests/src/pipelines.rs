//! What runs behind the routes, driven by a test: mail in (as SES delivers it) and out (as
//! moto recorded it), the stream's consumers, the webhook sender and the search indexer.

use super::*;

impl Harness {
    /// Delivers a raw message as SES would (`POST /_local/inbound-email`), with `query`
    /// setting verdicts or the SES message id.
    pub async fn inbound_email(&self, raw: impl Into<Vec<u8>>, query: &str) -> Answer {
        let url = format!("{}/_local/inbound-email{}{query}", self.base, if query.is_empty() { "" } else { "?" });
        let res = self.http.post(url).body(raw.into()).send().await.expect("gateway answers");
        let status = res.status().as_u16();
        Answer { status, body: res.json().await.expect("JSON answer") }
    }

    /// Reads what the table's stream has gathered since the last call, as one Lambda event,
    /// and hands it to the automations and the notifier as their event source mappings would.
    /// Returns the event (to deliver it again) and the notifier's answer.
    pub async fn run_stream(&self) -> (aws_lambda_events::dynamodb::Event, Value) {
        let event = self.poll_stream().await;
        self.run_stream_event(event).await
    }

    /// What the table's stream has gathered since the last poll, as one Lambda event.
    pub async fn poll_stream(&self) -> aws_lambda_events::dynamodb::Event {
        let mut poller = self.stream.lock().await;
        if poller.is_none() {
            let sdk = sdk_config(&required_env("HELPDESK_TEST_DYNAMODB")).await;
            *poller =
                Some(helpdesk_tools::stream::StreamPoller::new(&sdk, &self.table).await.expect("the table's stream"));
        }
        poller.as_mut().unwrap().poll().await.expect("stream records")
    }

    /// Hands `event` to the automations and then the notifier (again).
    pub async fn run_stream_event(
        &self,
        event: aws_lambda_events::dynamodb::Event,
    ) -> (aws_lambda_events::dynamodb::Event, Value) {
        use helpdesk_tools::stream::Consumer;
        let automations = Consumer::Automations.handle(&self.app, event.clone()).await;
        assert_eq!(automations["batchItemFailures"], serde_json::json!([]), "automations failed");
        let answer = Consumer::Notifier.handle(&self.app, event.clone()).await;
        (event, answer)
    }

    /// Takes the webhook invocations queued so far, unsent (to hand them to the binary).
    pub async fn take_webhooks(&self) -> Vec<Value> {
        let mut queue = self.webhooks.lock().await;
        std::iter::from_fn(|| queue.try_recv().ok()).collect()
    }

    /// Hands every webhook delivery queued so far to the sender's handler (as Lambda runs the
    /// asynchronous invocations), one after the other; returns its answers.
    pub async fn run_webhooks(&self) -> Vec<Value> {
        let poster = helpdesk_webhooks::poster::HttpPoster::new(true);
        let mut queue = self.webhooks.lock().await;
        let mut answers = vec![];
        while let Ok(payload) = queue.try_recv() {
            answers.push(helpdesk_tools::invoke::send(&self.app, &poster, payload).await);
        }
        answers
    }

    /// Takes the indexer invocations queued so far, unrun (to hand them to it again).
    pub async fn take_index_invocations(&self) -> Vec<Value> {
        let mut queue = self.index_queue.lock().await;
        std::iter::from_fn(|| queue.try_recv().ok()).collect()
    }

    /// Hands every indexer invocation queued so far to the indexer's handler, one after the
    /// other (as its reserved concurrency of one makes Lambda do); returns its answers.
    pub async fn run_indexer(&self) -> Vec<Value> {
        let mut answers = vec![];
        for payload in self.take_index_invocations().await {
            answers.push(helpdesk_tools::invoke::index(&self.app, payload).await);
        }
        answers
    }

    /// Runs the stream until it is quiet, then the indexer: every change so far searchable.
    pub async fn settle_search(&self) {
        self.settle_stream().await;
        let answers = self.run_indexer().await;
        assert!(answers.iter().all(|a| a.get("error").is_none()), "the indexer failed: {answers:?}");
    }

    /// Runs the stream until it is quiet: what automations write is delivered too.
    pub async fn settle_stream(&self) {
        for _ in 0..5 {
            let (event, _) = self.run_stream().await;
            if event.records.is_empty() {
                return;
            }
        }
        panic!("the stream did not settle in 5 rounds");
    }

    /// The ids moto's SES gave the raw messages sent to `to`, oldest first.
    pub async fn sent_message_ids(&self, to: &str) -> Vec<String> {
        self.raw_messages(to).await.into_iter().map(|m| m["id"].as_str().unwrap_or("").to_string()).collect()
    }

    async fn raw_messages(&self, to: &str) -> Vec<Value> {
        let data = self.moto_data().await;
        data["ses"]["RawMessage"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["destinations"].as_array().is_some_and(|a| a.iter().any(|x| x == to)))
            .cloned()
            .collect()
    }

    /// Every raw message moto's SES has sent to `to`, oldest first.
    pub async fn raw_mail_to(&self, to: &str) -> Vec<String> {
        self.raw_messages(to).await.into_iter().map(|m| m["raw_data"].as_str().unwrap_or("").to_string()).collect()
    }

    /// Every item in this test's table (a test-only Scan, to check nothing was half-written).
    pub async fn item_count(&self) -> usize {
        let out = self.store.client().scan().table_name(&self.table).send().await.unwrap();
        out.items.unwrap_or_default().len()
    }
}
