//! The courtroom capture agent: records every microphone into a crash-safe local spool (the record
//! of truth) and streams it to the server. Never links whisper.cpp. Filled by the capture issue.
