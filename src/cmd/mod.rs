//! One module per subcommand.

pub mod backup;
pub mod content;
pub mod export;
pub mod operator;
pub mod outbox;
pub mod serve;
pub mod site;
pub mod user;
pub mod wordpress;
pub mod worker;
