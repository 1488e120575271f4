//! The `keyward` binary as an operator runs it.

mod keys;
mod operator;
