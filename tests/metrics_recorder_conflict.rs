//! Another `metrics` recorder installed first: the monitor says so clearly
//! instead of silently losing facade metrics, and can still start without
//! its recorder. A file of its own because the global recorder is per process.

#[test]
fn another_global_recorder_is_a_clear_error() {
    metrics::set_global_recorder(metrics::NoopRecorder).expect("first recorder in this process");

    let error = monitor::builder()
        .dashboard(false)
        .start()
        .err()
        .expect("starting must fail while another recorder is installed");
    assert!(
        matches!(error, monitor::Error::RecorderAlreadyInstalled),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("another `metrics` recorder"), "{message}");
    assert!(
        message.contains("install_recorder = false"),
        "says what to do: {message}"
    );

    // The failed start left nothing running; without the recorder it starts.
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts without installing the recorder");
    assert!(monitor.is_running());
    assert!(monitor.collect_now().metrics.is_empty());
    drop(monitor);

    // Asking again still fails the same way (the other recorder stays).
    let again = monitor::builder().dashboard(false).start().err();
    assert!(
        matches!(again, Some(monitor::Error::RecorderAlreadyInstalled)),
        "{again:?}"
    );
}
