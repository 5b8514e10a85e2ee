//! Whisper model manager. Registry packages or files on disk flow in; validated whisper.cpp ggml
//! files with a manifest each flow out, under `$COURTSCRIBE_HOME/models`.
