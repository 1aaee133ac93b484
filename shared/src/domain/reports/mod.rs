//! Reports and satisfaction: per project, per day (and per assignee), counts of what happened
//! to its requests, kept from the table's stream (`apply`) and read back into periods
//! (`report`). Each request's ledger says what of it was counted, so a change is counted once
//! however often it is delivered, and `rebuild` can sum everything again.

pub mod apply;
pub mod counts;
pub mod events;
pub mod rebuild;
pub mod records;
pub mod report;

pub use apply::count_change;
pub use rebuild::rebuild_stats;
pub use report::{project_report, Report, ReportQuery};

#[cfg(test)]
mod tests;
