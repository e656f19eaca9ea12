//! The fleet on the wire: the heartbeat a kiosk sends every minute with its health (what
//! its staff health screen shows), and the hub's answer.

use serde::{Deserialize, Serialize};

#[cfg(feature = "hub")]
use utoipa::ToSchema;

/// Longest app version, camera name or error text accepted in a heartbeat.
pub const MAX_HEARTBEAT_TEXT: usize = 200;

/// How often a kiosk sends its heartbeat.
pub const HEARTBEAT_SECONDS: u64 = 60;

/// `POST /v1/kiosk/heartbeat`: how a kiosk is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The app's version (semantic versioning).
    pub app_version: String,
    /// The kiosk's clock when it sent this: the hub compares it with its own.
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub sent_at: jiff::Timestamp,
    /// The last push of wishlist edits the hub accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub last_push: Option<jiff::Timestamp>,
    /// The last catalog pull that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub last_pull: Option<jiff::Timestamp>,
    /// The last sync failure, if the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Wishlist edits waiting to be sent, and those the hub refused.
    pub outbox_pending: u64,
    pub outbox_rejected: u64,
    /// Measurement and staff events waiting to be sent.
    #[serde(default)]
    pub events_pending: u64,
    /// Products in the kiosk's catalog.
    pub products: u64,
    /// The stock levels' date, from the last inventory feed the kiosk has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hub", schema(value_type = Option<String>, format = DateTime))]
    pub inventory_as_of: Option<jiff::Timestamp>,
    pub camera: CameraHealth,
    /// Bytes free on the kiosk's data file system, and bytes its data takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_free_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_bytes: Option<u64>,
    /// The remote settings' version the kiosk applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_version: Option<i64>,
}

/// The kiosk's camera, as its scanner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CameraHealth {
    pub state: CameraState,
    /// The camera's name, as the system gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Frames per second delivered (smoothed); 0 while waiting.
    #[serde(default)]
    pub fps: f32,
    /// How long the camera has been waiting for frames, in seconds (0 while running).
    #[serde(default)]
    pub waiting_seconds: u64,
    /// Frames given up on past the decoder's time budget, since the app started.
    #[serde(default)]
    pub frames_given_up: u64,
    /// Minutes since a code was last read, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_since_read: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    /// Frames arrive.
    Running,
    /// The camera is opened but gives no frame, or is being reopened (unplugged).
    Waiting,
    /// The kiosk runs without a camera (none configured).
    Absent,
}

impl CameraState {
    pub fn as_str(self) -> &'static str {
        match self {
            CameraState::Running => "running",
            CameraState::Waiting => "waiting",
            CameraState::Absent => "absent",
        }
    }
}

/// The hub's answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct HeartbeatAck {
    /// The hub's clock when it received the heartbeat.
    #[cfg_attr(feature = "hub", schema(value_type = String, format = DateTime))]
    pub received_at: jiff::Timestamp,
}
