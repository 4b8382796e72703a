//! Streaming Matroska/WebM demuxer: reads any byte stream in order, never seeks.
