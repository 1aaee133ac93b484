//! The one retry budget of optimistic writes: a loop asks `next` before each pass; repeats
//! wait a short random pause that grows, and the budget's end is a 503.

use crate::error::ApiError;
use std::time::Duration;

/// Passes an optimistic write gets before it answers 503 `storage_unavailable`.
pub const ATTEMPTS: u32 = 8;

#[derive(Debug, Default)]
pub struct Budget {
    used: u32,
}

impl Budget {
    /// Starts a pass: the first at once, later ones after a jittered pause, none past the budget.
    pub async fn next(&mut self) -> Result<u32, ApiError> {
        let attempt = self.used;
        if attempt >= ATTEMPTS {
            return Err(ApiError::StorageUnavailable);
        }
        if attempt > 0 {
            let ceiling = 5 + 5 * u64::from(attempt.min(10));
            tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % ceiling)).await;
        }
        self.used += 1;
        Ok(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_budget_ends_in_a_503() {
        let mut budget = Budget::default();
        for expected in 0..ATTEMPTS {
            assert_eq!(budget.next().await.unwrap(), expected);
        }
        assert_eq!(budget.next().await.unwrap_err(), ApiError::StorageUnavailable);
    }
}
