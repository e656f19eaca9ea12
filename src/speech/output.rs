//! Where speech goes. [`Output`] is what the speaker thread writes to: the sound card
//! ([`Alsa`]), a WAV file ([`Wav`], `vitrine speak --wav`), or a [`Recorder`] that
//! keeps when sound started and stopped, paced like a sound card, for the tests and
//! `vitrine bench a11y`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sink for 16-bit mono samples.
pub trait Output: Send {
    /// A new utterance at `sample_rate` begins (what was playing was stopped).
    fn begin(&mut self, sample_rate: u32) -> std::io::Result<()>;
    /// Plays `samples`; may block for about one audio period, not longer.
    fn write(&mut self, samples: &[i16]) -> std::io::Result<()>;
    /// How much of what was written is still to be heard.
    fn pending(&mut self) -> Duration;
    /// Silence now: what is buffered is dropped.
    fn stop(&mut self);
}

/// The sound card, through ALSA's `default` device (its plug layer converts the
/// synthesiser's 22,050 Hz), a 100 ms buffer in 20 ms periods: the most a `stop`
/// waits for is one period.
pub struct Alsa {
    device: String,
    pcm: Option<(u32, alsa::PCM)>,
    /// When opening last failed: not tried again for [`RETRY`] (alsa-lib writes its
    /// own lines to standard error on each try).
    failed: Option<std::time::Instant>,
}

/// How long a sound card that could not be opened is left alone.
const RETRY: Duration = Duration::from_secs(10);

impl Alsa {
    pub fn new(device: &str) -> Alsa {
        Alsa {
            device: device.to_owned(),
            pcm: None,
            failed: None,
        }
    }

    fn open(&self, rate: u32) -> Result<alsa::PCM, alsa::Error> {
        use alsa::pcm::{Access, Format, HwParams};
        let pcm = alsa::PCM::new(&self.device, alsa::Direction::Playback, false)?;
        {
            let hw = HwParams::any(&pcm)?;
            hw.set_channels(1)?;
            hw.set_rate(rate, alsa::ValueOr::Nearest)?;
            hw.set_format(Format::s16())?;
            hw.set_access(Access::RWInterleaved)?;
            hw.set_buffer_time_near(100_000, alsa::ValueOr::Nearest)?;
            hw.set_period_time_near(20_000, alsa::ValueOr::Nearest)?;
            pcm.hw_params(&hw)?;
        }
        Ok(pcm)
    }
}

fn io_error(e: alsa::Error) -> std::io::Error {
    std::io::Error::other(e)
}

impl Output for Alsa {
    fn begin(&mut self, sample_rate: u32) -> std::io::Result<()> {
        if self.pcm.as_ref().is_none_or(|(rate, _)| *rate != sample_rate) {
            self.pcm = None;
            if self.failed.is_some_and(|at| at.elapsed() < RETRY) {
                return Err(std::io::Error::other("the sound card could not be opened"));
            }
            match self.open(sample_rate) {
                Ok(pcm) => {
                    self.failed = None;
                    self.pcm = Some((sample_rate, pcm));
                }
                Err(e) => {
                    self.failed = Some(std::time::Instant::now());
                    return Err(io_error(e));
                }
            }
        }
        if let Some((_, pcm)) = &self.pcm
            && pcm.state() != alsa::pcm::State::Prepared
        {
            pcm.prepare().map_err(io_error)?;
        }
        Ok(())
    }

    fn write(&mut self, mut samples: &[i16]) -> std::io::Result<()> {
        let Some((_, pcm)) = &self.pcm else {
            return Err(std::io::Error::other("the sound card is not open"));
        };
        let io = pcm.io_i16().map_err(io_error)?;
        while !samples.is_empty() {
            match io.writei(samples) {
                Ok(n) => samples = &samples[n..],
                // An underrun (the synthesiser was late): recover and go on.
                Err(e) => pcm.try_recover(e, true).map_err(io_error)?,
            }
        }
        Ok(())
    }

    fn pending(&mut self) -> Duration {
        let Some((rate, pcm)) = &self.pcm else {
            return Duration::ZERO;
        };
        if pcm.state() != alsa::pcm::State::Running {
            return Duration::ZERO;
        }
        let frames = u64::try_from(pcm.delay().unwrap_or(0)).unwrap_or(0);
        Duration::from_micros(frames * 1_000_000 / u64::from((*rate).max(1)))
    }

    fn stop(&mut self) {
        if let Some((_, pcm)) = &self.pcm {
            let _ = pcm.drop();
        }
    }
}

/// Speech to a WAV file: each utterance appended, a stop ends nothing but the
/// utterance (the file is finished when the output is dropped).
pub struct Wav {
    path: PathBuf,
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
}

impl Wav {
    pub fn create(path: &Path) -> Wav {
        Wav {
            path: path.to_owned(),
            writer: None,
        }
    }
}

impl Output for Wav {
    fn begin(&mut self, sample_rate: u32) -> std::io::Result<()> {
        if self.writer.is_none() {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            self.writer = Some(hound::WavWriter::create(&self.path, spec).map_err(std::io::Error::other)?);
        }
        Ok(())
    }

    fn write(&mut self, samples: &[i16]) -> std::io::Result<()> {
        if let Some(writer) = self.writer.as_mut() {
            for &s in samples {
                writer.write_sample(s).map_err(std::io::Error::other)?;
            }
        }
        Ok(())
    }

    fn pending(&mut self) -> Duration {
        Duration::ZERO
    }

    fn stop(&mut self) {}
}

impl Drop for Wav {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take()
            && let Err(e) = writer.finalize()
        {
            tracing::warn!(error = %e, path = %self.path.display(), "cannot finish the WAV file");
        }
    }
}

/// What a [`Recorder`] saw, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// An utterance's first sample that is not silence.
    Sound(Instant),
    /// Silenced (a `stop`, or the next utterance).
    Stopped(Instant),
    /// An utterance played to its end: its samples.
    Ended(usize),
}

/// A stand-in for the sound card: paced in real time as a card plays (a write waits
/// for the samples' duration, less a 100 ms buffer), it keeps what was heard when.
pub struct Recorder {
    log: Arc<Mutex<Vec<Heard>>>,
    rate: u32,
    heard_sound: bool,
    samples: usize,
    /// When the buffered samples will have played.
    played_at: Option<Instant>,
}

impl Recorder {
    pub fn new() -> (Recorder, Arc<Mutex<Vec<Heard>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            log: log.clone(),
            rate: 22_050,
            heard_sound: false,
            samples: 0,
            played_at: None,
        };
        (recorder, log)
    }

    fn note(&self, heard: Heard) {
        if let Ok(mut log) = self.log.lock() {
            log.push(heard);
        }
    }
}

/// Below this a sample is silence (espeak-ng starts an utterance with a few ms of it).
const SILENCE: i16 = 64;

impl Output for Recorder {
    fn begin(&mut self, sample_rate: u32) -> std::io::Result<()> {
        self.rate = sample_rate.max(1);
        self.heard_sound = false;
        self.samples = 0;
        self.played_at = None;
        Ok(())
    }

    fn write(&mut self, samples: &[i16]) -> std::io::Result<()> {
        if !self.heard_sound && samples.iter().any(|s| s.unsigned_abs() > SILENCE.unsigned_abs()) {
            self.heard_sound = true;
            self.note(Heard::Sound(Instant::now()));
        }
        self.samples += samples.len();
        let now = Instant::now();
        let length = Duration::from_micros(samples.len() as u64 * 1_000_000 / u64::from(self.rate));
        let end = self.played_at.filter(|t| *t > now).unwrap_or(now) + length;
        self.played_at = Some(end);
        // A card's buffer holds 100 ms: a write returns once the rest fits.
        let room = end
            .saturating_duration_since(now)
            .saturating_sub(Duration::from_millis(100));
        std::thread::sleep(room);
        Ok(())
    }

    fn pending(&mut self) -> Duration {
        let left = self
            .played_at
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(Instant::now()));
        if left.is_zero() && self.played_at.take().is_some() {
            self.note(Heard::Ended(self.samples));
        }
        left
    }

    fn stop(&mut self) {
        if self.played_at.take().is_some() {
            self.note(Heard::Stopped(Instant::now()));
        }
    }
}
