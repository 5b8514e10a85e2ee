//! glibc's allocator, tuned for a long-running server whose big buffers (whisper decoding states,
//! ~150–200 MB each) come and go on several threads. By default glibc gives each thread its own
//! arena (up to 8 per core) and raises its mmap threshold after large frees, so freed state
//! buffers stay in the heap of the thread that freed them, out of reach of the next job's
//! thread. Measured on the load bench (4 stations, 60 s, quiet 2-core machine): peak RSS
//! 1,047–1,230 MB with the defaults, 856–924 MB with two arenas and a fixed 1 MiB mmap threshold
//! (large buffers are mapped and given back to the system when freed).

/// Applies the settings; call once at start-up, before the runtime spawns threads. Settings given
/// in the environment (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`) take precedence.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    const ARENAS: i32 = 2;
    const MMAP_THRESHOLD: i32 = 1 << 20;
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes allocator parameters; glibc documents it as safe to call at
        // any time, and it is called here before any other thread exists.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        if ok != 1 {
            tracing::warn!("could not limit malloc arenas");
        }
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as above.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok != 1 {
            tracing::warn!("could not set the malloc mmap threshold");
        }
    }
}

/// Other C libraries: nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
