//! MP4 output (faststart and fragmented) and MP4/MOV input.
