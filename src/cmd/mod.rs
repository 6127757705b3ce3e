//! One module per subcommand.

pub mod operator;
pub mod outbox;
pub mod serve;
pub mod user;
