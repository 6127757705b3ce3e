//! One module per subcommand.

pub mod outbox;
pub mod serve;
