//! One module per subcommand; [`crate::cli`] parses the command line and
//! calls them. Each returns the command's [`crate::error::Status`] or the
//! [`crate::error::Error`] that stopped it.

pub mod check;
pub mod conformance;
pub mod doctor;
pub mod list;
pub mod run;
