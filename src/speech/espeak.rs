//! The synthesiser: the `espeak-ng` program, one process per utterance. The text goes
//! on its standard input (never as an argument, so no text is read as an option, and
//! without `-m` no markup is interpreted); its standard output is a WAV stream, 16-bit
//! mono, which [`Synthesis`] reads as it comes.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use super::{Lang, MAX_CHARS, Utterance};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start {program}: {source} (is espeak-ng installed?)")]
    Start { program: String, source: std::io::Error },
    #[error("espeak-ng gave no audio: {0}")]
    Stream(#[from] hound::Error),
    #[error("espeak-ng gave {0}-bit or {1}-channel audio, not 16-bit mono")]
    Format(u16, u16),
}

/// Where the program is.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: PathBuf,
}

impl Default for Espeak {
    fn default() -> Espeak {
        Espeak {
            program: PathBuf::from("espeak-ng"),
        }
    }
}

impl Espeak {
    pub fn at(program: impl Into<PathBuf>) -> Espeak {
        Espeak {
            program: program.into(),
        }
    }

    /// Whether the program runs here (checked once when speech is first turned on).
    pub fn available(&self) -> bool {
        Command::new(&self.program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts saying `utterance`; its samples are read from the result.
    pub fn start(&self, utterance: &Utterance) -> Result<Synthesis, Error> {
        let voice = match utterance.lang {
            Lang::French => "fr",
            Lang::English => "en",
        };
        let mut child = Command::new(&self.program)
            // `--stdin`: the whole text at once (otherwise lines of 1,000 bytes, cut
            // mid-character).
            .args(["--stdout", "--stdin", "-v", voice])
            .arg("-s")
            .arg(utterance.voice.rate.to_string())
            .arg("-a")
            .arg(utterance.voice.volume.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Start {
                program: self.program.display().to_string(),
                source,
            })?;
        let text = speakable(&utterance.text);
        if let Some(mut stdin) = child.stdin.take() {
            // A write error means the process is gone; reading its output says so.
            let _ = stdin.write_all(text.as_bytes());
        }
        let stdout = child.stdout.take();
        let synthesis = Synthesis { child, reader: None };
        match stdout {
            Some(stdout) => synthesis.open(stdout),
            // Piped above: never the case.
            None => Err(Error::Stream(hound::Error::FormatError("no output"))),
        }
    }
}

/// The text as espeak-ng gets it: one line, at most [`MAX_CHARS`] characters, cut at
/// a word when it is longer; no `[[`, which would start phoneme input.
pub fn speakable(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("[[", "[ [");
    if flat.chars().count() <= MAX_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_CHARS).collect();
    match cut.rfind(' ') {
        Some(space) => cut[..space].to_owned(),
        None => cut,
    }
}

type Samples = hound::WavIntoSamples<BufReader<ChildStdout>, i16>;

/// One utterance being synthesised. Dropping it kills the process.
pub struct Synthesis {
    child: Child,
    reader: Option<(u32, Samples)>,
}

impl Synthesis {
    fn open(mut self, stdout: ChildStdout) -> Result<Synthesis, Error> {
        let reader = hound::WavReader::new(BufReader::new(stdout))?;
        let spec = reader.spec();
        if spec.bits_per_sample != 16 || spec.channels != 1 {
            return Err(Error::Format(spec.bits_per_sample, spec.channels));
        }
        self.reader = Some((spec.sample_rate, reader.into_samples()));
        Ok(self)
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.reader.as_ref().map_or(22_050, |(rate, _)| *rate)
    }

    /// Fills `buf` with the next samples; 0 at the end. espeak-ng streams with a
    /// header that claims 2 GB of data, so the end is the end of its output.
    pub fn read(&mut self, buf: &mut [i16]) -> usize {
        let Some((_, samples)) = self.reader.as_mut() else {
            return 0;
        };
        let mut n = 0;
        for slot in buf.iter_mut() {
            match samples.next() {
                Some(Ok(sample)) => {
                    *slot = sample;
                    n += 1;
                }
                _ => {
                    self.reader = None;
                    break;
                }
            }
        }
        n
    }
}

impl Drop for Synthesis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_line_and_bounded() {
        assert_eq!(speakable("Prix\n129 €\t"), "Prix 129 € ");
        let long = "mot ".repeat(400);
        let said = speakable(&long);
        assert!(said.chars().count() <= MAX_CHARS);
        assert!(said.ends_with("mot"), "cut at a word: {said:?}");
        assert_eq!(speakable(&"é".repeat(700)).chars().count(), MAX_CHARS);
        assert_eq!(speakable("Robe [[r'Ob]]"), "Robe [ [r'Ob]]");
    }
}
