//! One module per subcommand.

pub mod backup;
pub mod operator;
pub mod outbox;
pub mod serve;
pub mod user;
