//! The transcription service and case record: HTTP API (axum), durable store, job queue, live
//! ingest from capture stations. Filled by the server issue.
