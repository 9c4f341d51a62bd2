//! A worker pool where each thread owns its own models.
//!
//! dlib's and OpenCV's networks are not `Sync`, so they cannot be shared; loading one set per thread
//! costs ~0.2 s and ~100 MB, and lets a folder of photos use every core. With several workers,
//! OpenCV and OpenBLAS are kept to one thread each, or their own threads fight the workers for the
//! same cores.

use std::thread;

use crossbeam_channel::unbounded;

/// Number of worker threads to use when the user does not say: one per core.
pub fn default_threads() -> usize {
    thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `work` over `jobs` on `threads` threads. Each thread first builds its state with `init`
/// (for example a [`crate::FaceAnalyzer`]); `on_result` is called on the calling thread as each
/// result arrives, in completion order, with the job's index. Returns the first `init` error.
pub fn run_pool<S, J, R, E>(
    threads: usize,
    jobs: Vec<J>,
    init: impl Fn() -> Result<S, E> + Sync,
    work: impl Fn(&mut S, J) -> R + Sync,
    mut on_result: impl FnMut(usize, R),
) -> Result<(), E>
where
    J: Send,
    R: Send,
    E: Send,
{
    let threads = threads.clamp(1, jobs.len().max(1));
    if threads > 1 {
        crate::dlib_bridge::single_threaded_blas();
        let _ = opencv::core::set_num_threads(1);
    }
    let (job_tx, job_rx) = unbounded::<(usize, J)>();
    for job in jobs.into_iter().enumerate() {
        job_tx.send(job).expect("receiver alive");
    }
    drop(job_tx);
    let (result_tx, result_rx) = unbounded::<Result<(usize, R), E>>();
    let (init, work) = (&init, &work);
    thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, result_tx) = (job_rx.clone(), result_tx.clone());
            scope.spawn(move || {
                let mut state = match init() {
                    Ok(state) => state,
                    Err(error) => {
                        let _ = result_tx.send(Err(error));
                        return;
                    }
                };
                for (index, job) in job_rx.iter() {
                    if result_tx.send(Ok((index, work(&mut state, job)))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(result_tx);
        for message in result_rx.iter() {
            match message {
                Ok((index, result)) => on_result(index, result),
                Err(error) => {
                    // Stop the other workers: drain the queue so they finish their current job.
                    while job_rx.try_recv().is_ok() {}
                    return Err(error);
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_with_per_thread_state() {
        let mut seen = [0u32; 50];
        run_pool(
            3,
            (0..50u32).collect(),
            || Ok::<_, String>(std::cell::Cell::new(0u32)),
            |state, job| {
                state.set(state.get() + 1);
                job * 2
            },
            |index, result| {
                assert_eq!(result, index as u32 * 2);
                seen[index] += 1;
            },
        )
        .unwrap();
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn init_error_is_returned() {
        let result = run_pool(
            2,
            vec![1, 2, 3],
            || Err::<(), _>("no models"),
            |_, j: i32| j,
            |_, _| {},
        );
        assert_eq!(result, Err("no models"));
    }
}
