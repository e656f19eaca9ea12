//! The speaker thread: one utterance at a time, in 20 ms chunks from the synthesiser
//! to the output, looking for the next command between chunks. A new utterance or a
//! stop kills the synthesiser and drops what the output buffered, so speech stops
//! within one audio period of the shopper's next action.

use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Utterance;
use super::espeak::{Espeak, Synthesis};
use super::output::Output;

enum Command {
    Say(Utterance),
    Stop,
    /// Finish what is being said, then end.
    Finish,
}

/// The handle the kiosk holds; dropping it ends the thread after silencing it.
pub struct Speaker {
    tx: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl Speaker {
    pub fn start(espeak: Espeak, output: Box<dyn Output>) -> std::io::Result<Speaker> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || run(&espeak, output, &rx))?;
        Ok(Speaker {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Says `utterance`, cutting short whatever was being said.
    pub fn say(&self, utterance: Utterance) {
        self.send(Command::Say(utterance));
    }

    /// Silence, now.
    pub fn stop(&self) {
        self.send(Command::Stop);
    }

    /// Lets what is being said end, then ends the thread (`vitrine speak`, the WAV
    /// files of the tests).
    pub fn finish(mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Command::Finish);
        }
        // Drop joins the thread.
    }

    fn send(&self, command: Command) {
        if let Some(tx) = &self.tx {
            // The thread only ends when this handle drops.
            let _ = tx.send(command);
        }
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            // Silence, unless `finish` asked for the end of the utterance first.
            let _ = tx.send(Command::Stop);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// 20 ms at espeak-ng's 22,050 Hz.
const CHUNK: usize = 441;

fn run(espeak: &Espeak, mut output: Box<dyn Output>, rx: &mpsc::Receiver<Command>) {
    let mut current: Option<Synthesis> = None;
    let mut draining = false;
    let mut warned = false;
    let mut finishing = false;
    let mut buf = [0i16; CHUNK];
    loop {
        let wait = if current.is_some() {
            Some(Duration::ZERO)
        } else if draining {
            let left = output.pending();
            draining = !left.is_zero();
            draining.then(|| left.min(Duration::from_millis(10)))
        } else if finishing {
            return;
        } else {
            None
        };
        let command = match next(rx, wait) {
            Ok((command, finish)) => {
                finishing |= finish;
                command
            }
            Err(()) => break,
        };
        match command {
            Some(Command::Say(utterance)) => {
                drop(current.take());
                output.stop();
                draining = false;
                let started = espeak.start(&utterance).map_err(|e| e.to_string()).and_then(|s| {
                    output.begin(s.sample_rate()).map_err(|e| e.to_string())?;
                    Ok(s)
                });
                match started {
                    Ok(synthesis) => current = Some(synthesis),
                    // Once: a kiosk without a sound card would say it on every key.
                    Err(error) if !warned => {
                        warned = true;
                        tracing::warn!(%error, "cannot speak");
                    }
                    Err(_) => {}
                }
            }
            Some(Command::Stop) => {
                drop(current.take());
                output.stop();
                draining = false;
            }
            // `next` hands a finish over apart.
            Some(Command::Finish) | None => {}
        }
        if let Some(synthesis) = current.as_mut() {
            let n = synthesis.read(&mut buf);
            if n == 0 {
                current = None;
                draining = true;
            } else if let Err(error) = output.write(&buf[..n]) {
                tracing::warn!(%error, "speech output failed");
                current = None;
                output.stop();
            }
        }
    }
    drop(current);
    output.stop();
}

/// The latest command, waiting at most `wait` (forever with `None`): commands queued
/// behind each other collapse into the last, since each one replaces the one before;
/// a `Finish` among them is kept (the second value) and applies after the last.
fn next(rx: &mpsc::Receiver<Command>, wait: Option<Duration>) -> Result<(Option<Command>, bool), ()> {
    let first = match wait {
        None => rx.recv().map_err(|_| ())?,
        Some(d) if d.is_zero() => match rx.try_recv() {
            Ok(c) => c,
            Err(TryRecvError::Empty) => return Ok((None, false)),
            // The handle is gone while speaking: what was asked is said to its end
            // (`Drop` asks for silence first).
            Err(TryRecvError::Disconnected) => return Ok((None, true)),
        },
        Some(d) => match rx.recv_timeout(d) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => return Ok((None, false)),
            Err(RecvTimeoutError::Disconnected) => return Ok((None, true)),
        },
    };
    let mut latest = None;
    let mut finish = false;
    for command in std::iter::once(first).chain(rx.try_iter()) {
        match command {
            Command::Finish => finish = true,
            other => latest = Some(other),
        }
    }
    Ok((latest, finish))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::speech::output::{Heard, Recorder};
    use crate::speech::{Lang, Voice};

    fn utterance(text: &str) -> Utterance {
        Utterance {
            text: text.to_owned(),
            lang: Lang::French,
            voice: Voice::default(),
        }
    }

    fn wait_for(log: &std::sync::Mutex<Vec<Heard>>, what: impl Fn(&[Heard]) -> bool) -> Vec<Heard> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = log.lock().unwrap().clone();
            if what(&seen) {
                return seen;
            }
            assert!(Instant::now() < deadline, "not heard: {seen:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn speaks_then_is_cut_short_by_the_next_utterance() {
        let (recorder, log) = Recorder::new();
        let speaker = Speaker::start(Espeak::default(), Box::new(recorder)).unwrap();
        speaker.say(utterance(
            "Une phrase assez longue pour durer plus d'une seconde entière.",
        ));
        wait_for(&log, |h| matches!(h, [Heard::Sound(_)]));
        speaker.say(utterance("Court."));
        let heard = wait_for(&log, |h| h.iter().any(|e| matches!(e, Heard::Ended(_))));
        assert!(
            matches!(heard.as_slice(), [Heard::Sound(_), Heard::Stopped(_), Heard::Sound(_), Heard::Ended(n)] if *n > 2_000),
            "the first cut, the second heard to its end: {heard:?}"
        );
        speaker.say(utterance("Encore une phrase assez longue pour qu'on l'arrête."));
        wait_for(&log, |h| h.len() == 5);
        speaker.stop();
        let heard = wait_for(&log, |h| h.len() == 6);
        assert!(matches!(heard[5], Heard::Stopped(_)), "{heard:?}");
    }

    #[test]
    fn a_missing_synthesiser_is_silence_not_a_crash() {
        let (recorder, log) = Recorder::new();
        let speaker = Speaker::start(Espeak::at("/nonexistent/espeak-ng"), Box::new(recorder)).unwrap();
        speaker.say(utterance("Rien."));
        speaker.stop();
        drop(speaker);
        assert!(log.lock().unwrap().is_empty());
    }
}
