//! A project and how its requests are worked: settings and agents (`projects`), request forms
//! (`forms`, their values and moves between them) and macros.

pub mod form_moves;
pub mod form_values;
pub mod forms;
pub mod macros;
pub mod projects;
