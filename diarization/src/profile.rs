//! Room profiles: which seat each microphone channel belongs to, so the minutes name roles
//! (chủ tọa = presiding judge, thư ký = clerk, …) instead of channel numbers.
//!
//! ```toml
//! # roles.toml — courtroom 2, district people's court
//! name = "Phòng xử án số 2"          # optional
//! [channels]
//! 0 = { role = "CHU_TOA", label = "Chủ tọa phiên tòa" }
//! 1 = { role = "THU_KY", label = "Thư ký phiên tòa" }
//! 2 = { role = "KIEM_SAT_VIEN" }     # label defaults to the role
//! ```
//!
//! Channels count from 0 in file order. Roles are `A–Z`, `0–9` and `_` (they end up as RTTM speaker
//! names and in the JSON), and each role belongs to one channel: two seats with the same function get
//! their own roles (`LUAT_SU_1`, `LUAT_SU_2`). A channel the profile does not name is an error, not a
//! guess: the minutes must never file a person under someone else's seat.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::Error;

/// Highest channel number a profile may name (the crate handles up to 16 microphones; a little
/// headroom for rooms that skip numbers).
pub const MAX_CHANNELS: usize = 64;

/// One seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub channel: usize,
    /// Machine name, e.g. `CHU_TOA`.
    pub role: String,
    /// Human name for the minutes, e.g. "Chủ tọa phiên tòa".
    pub label: String,
}

/// A validated room profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomProfile {
    pub name: Option<String>,
    /// Sorted by channel.
    pub seats: Vec<Seat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    channels: BTreeMap<String, RawSeat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeat {
    role: String,
    label: Option<String>,
}

impl RoomProfile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let text = String::from_utf8(text)
            .map_err(|_| Error::RoomProfile(format!("{}: not UTF-8 text", path.display())))?;
        Self::parse(&text).map_err(|e| match e {
            Error::RoomProfile(m) => Error::RoomProfile(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses and validates profile text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let raw: RawProfile =
            toml::from_str(text).map_err(|e| Error::RoomProfile(e.message().to_string()))?;
        let mut seats = Vec::new();
        for (key, seat) in raw.channels {
            let channel: usize = key.trim().parse().map_err(|_| {
                Error::RoomProfile(format!(
                    "channel key `{key}` is not a channel number (0, 1, 2, …)"
                ))
            })?;
            if channel >= MAX_CHANNELS {
                return Err(Error::RoomProfile(format!(
                    "channel {channel} is beyond the limit of {MAX_CHANNELS}"
                )));
            }
            let role = seat.role.trim().to_string();
            if role.is_empty()
                || !role
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(Error::RoomProfile(format!(
                    "channel {channel}: role `{role}` must be A–Z, 0–9 and _ (e.g. CHU_TOA); put the human name in `label`"
                )));
            }
            let label = seat
                .label
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| role.clone());
            seats.push(Seat {
                channel,
                role,
                label,
            });
        }
        if seats.is_empty() {
            return Err(Error::RoomProfile("`[channels]` names no channel".into()));
        }
        seats.sort_by_key(|s| s.channel);
        for (i, a) in seats.iter().enumerate() {
            if let Some(b) = seats[..i].iter().find(|b| b.channel == a.channel) {
                return Err(Error::RoomProfile(format!(
                    "channel {} is listed twice (`{}` and `{}`)",
                    a.channel, b.role, a.role
                )));
            }
            if let Some(b) = seats[..i].iter().find(|b| b.role == a.role) {
                return Err(Error::RoomProfile(format!(
                    "role {} is given to channels {} and {}; give each seat its own role (e.g. {}_1, {}_2)",
                    a.role, b.channel, a.channel, a.role, a.role
                )));
            }
        }
        Ok(Self {
            name: raw.name,
            seats,
        })
    }

    /// The seat of `channel`, if the profile names it.
    pub fn seat(&self, channel: usize) -> Option<&Seat> {
        self.seats.iter().find(|s| s.channel == channel)
    }

    /// Checks that every channel of a recording with `channels` channels has a seat.
    pub fn check_channels(&self, channels: usize) -> Result<(), Error> {
        let missing: Vec<String> = (0..channels)
            .filter(|c| self.seat(*c).is_none())
            .map(|c| c.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::ProfileMismatch(format!(
                "the recording has {channels} channels but the room profile names no seat for channel(s) {}; \
                 add them to the profile (or use the profile of the room this was recorded in)",
                missing.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let p = RoomProfile::parse(
            "name = \"P2\"\n[channels]\n0 = { role = \"CHU_TOA\", label = \"Chủ tọa phiên tòa\" }\n1 = { role = \"THU_KY\" }\n",
        )
        .expect("valid");
        assert_eq!(p.seats.len(), 2);
        assert_eq!(
            p.seat(0).map(|s| s.label.as_str()),
            Some("Chủ tọa phiên tòa")
        );
        assert_eq!(p.seat(1).map(|s| s.label.as_str()), Some("THU_KY"));
    }

    #[test]
    fn malformed_profiles_are_refused() {
        for bad in [
            "[channels]\n0 = { role = \"chu toa\" }\n",
            "[channels]\nzero = { role = \"CHU_TOA\" }\n",
            "[channels]\n0 = { role = \"A\" }\n1 = { role = \"A\" }\n",
            "[channels]\n0 = { role = \"A\", colour = \"red\" }\n",
            "[channels]\n",
            "[channels\n0 = 1",
            "channels = 3",
        ] {
            assert!(
                matches!(RoomProfile::parse(bad), Err(Error::RoomProfile(_))),
                "accepted: {bad}"
            );
        }
    }

    #[test]
    fn more_channels_than_seats_is_a_mismatch() {
        let p = RoomProfile::parse("[channels]\n0 = { role = \"A\" }\n1 = { role = \"B\" }\n")
            .expect("valid");
        assert!(p.check_channels(2).is_ok());
        assert!(matches!(
            p.check_channels(3),
            Err(Error::ProfileMismatch(_))
        ));
    }
}
