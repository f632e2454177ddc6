//! Home speaker adapters: the Alexa custom skill endpoint and the Wyoming
//! handle server for Home Assistant. Both are thin mappers onto the shared
//! path ([`crate::server::respond`]) on the voice channel.

pub mod alexa;
pub mod wyoming;
