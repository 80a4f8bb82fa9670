//! Hand-rolled arguments (a dozen flags do not need a parser crate): flags are taken out as the
//! commands ask for them, what remains are positionals.

pub struct Args(Vec<String>);

impl Args {
    pub fn new(v: Vec<String>) -> Args {
        Args(v)
    }

    /// `--name VALUE` or `--name=VALUE`, removed from the arguments.
    pub fn value(&mut self, name: &str) -> Option<String> {
        let eq = format!("{name}=");
        if let Some(i) = self.0.iter().position(|a| a.starts_with(&eq)) {
            return Some(self.0.remove(i)[eq.len()..].to_string());
        }
        let i = self.0.iter().position(|a| a == name)?;
        if i + 1 >= self.0.len() {
            return None;
        }
        self.0.remove(i);
        Some(self.0.remove(i))
    }

    /// Every `--name VALUE`, removed.
    pub fn values(&mut self, name: &str) -> Vec<String> {
        std::iter::from_fn(|| self.value(name)).collect()
    }

    /// A bare `--name`, removed.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    /// The first positional, removed: the command's name.
    pub fn take_command(&mut self) -> Option<String> {
        let i = self.0.iter().position(|a| !a.starts_with("--"))?;
        Some(self.0.remove(i))
    }

    pub fn positional(&self, n: usize) -> Option<String> {
        self.0
            .iter()
            .filter(|a| !a.starts_with("--"))
            .nth(n)
            .cloned()
    }

    /// Flags nobody asked for (a typo should not be ignored).
    pub fn unknown_flag(&self) -> Option<&str> {
        self.0
            .iter()
            .map(String::as_str)
            .find(|a| a.starts_with("--"))
    }
}
