//! Search as the product offers it: the indexer that keeps the index in step with the table
//! (`indexer`) and its rebuild from the table (`reindex`), what of a request it indexes
//! (`text`), and searching as an agent or a
//! customer (`find`). The engine (tantivy, files, queries) is `crate::search`.

pub mod find;
pub mod indexer;
pub mod records;
pub mod reindex;
mod text;

pub use find::{search_customer, search_project, SearchOptions, SearchPage};
pub use indexer::{collect_garbage, index_requests, Indexed};
pub use reindex::{reindex, Reindexed};
