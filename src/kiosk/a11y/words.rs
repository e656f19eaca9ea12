//! What speech says, without Slint: an element as a sentence (its label, its role, its
//! state), and the rule that keeps personal lines off the loudspeaker.

/// The words, in the screen's language (`ui/widgets/a11y.slint`'s `A11yWords`, read
/// once per utterance so a change of language is heard at once).
#[derive(Debug, Clone, Default)]
pub struct Words {
    pub button: String,
    pub switch: String,
    pub checkbox: String,
    pub text_field: String,
    pub image: String,
    pub tab: String,
    pub on: String,
    pub off: String,
    pub selected: String,
    pub not_selected: String,
    pub unavailable: String,
    pub empty: String,
    pub private: String,
}

/// What an element is, for speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Button,
    Switch,
    Checkbox,
    TextField,
    Tab,
    Image,
    Text,
}

impl Role {
    /// Something a shopper can act on (a text or a picture is only read).
    pub fn acts(self) -> bool {
        !matches!(self, Role::Image | Role::Text)
    }
}

/// One element in the focus order, as speech and the focus ring need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub label: String,
    pub role: Role,
    pub description: String,
    pub value: String,
    /// `Some` when the element can be checked (a heart, a setting).
    pub checked: Option<bool>,
    pub enabled: bool,
    /// A line of the shopper's own (their list): said only into headphones.
    pub private: bool,
    /// x, y, width, height in the window.
    pub rect: [f32; 4],
}

/// `item` as a sentence: "Add to wishlist, button, not selected". A private item is
/// replaced by [`Words::private`] unless `headphones`.
pub fn describe(item: &Item, words: &Words, headphones: bool) -> String {
    if item.private && !headphones {
        return words.private.clone();
    }
    let mut parts: Vec<&str> = Vec::new();
    let label = item.label.trim();
    if !label.is_empty() {
        parts.push(label);
    }
    let role = match item.role {
        Role::Button => Some(&words.button),
        Role::Switch => Some(&words.switch),
        Role::Checkbox => Some(&words.checkbox),
        Role::TextField => Some(&words.text_field),
        Role::Tab => Some(&words.tab),
        Role::Image => Some(&words.image),
        Role::Text => None,
    };
    parts.extend(role.map(String::as_str));
    let state = match (item.role, item.checked) {
        (Role::Switch, Some(on)) => Some(if on { &words.on } else { &words.off }),
        (_, Some(checked)) => Some(if checked { &words.selected } else { &words.not_selected }),
        _ => None,
    };
    parts.extend(state.map(String::as_str));
    if item.role == Role::TextField {
        let value = item.value.trim();
        parts.push(if value.is_empty() { &words.empty } else { value });
    }
    let description = item.description.trim();
    if !description.is_empty() && description != label {
        parts.push(description);
    }
    if !item.enabled {
        parts.push(&words.unavailable);
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words {
            button: "bouton".into(),
            switch: "interrupteur".into(),
            on: "activé".into(),
            off: "désactivé".into(),
            selected: "sélectionné".into(),
            not_selected: "non sélectionné".into(),
            text_field: "champ de texte".into(),
            empty: "vide".into(),
            unavailable: "indisponible".into(),
            private: "Branchez un casque pour l’entendre.".into(),
            ..Words::default()
        }
    }

    fn item(label: &str, role: Role) -> Item {
        Item {
            label: label.into(),
            role,
            description: String::new(),
            value: String::new(),
            checked: None,
            enabled: true,
            private: false,
            rect: [0.0; 4],
        }
    }

    #[test]
    fn an_element_is_its_label_role_and_state() {
        let w = words();
        assert_eq!(describe(&item("Retour", Role::Button), &w, false), "Retour, bouton");
        let heart = Item {
            checked: Some(false),
            ..item("Ajouter à ma liste", Role::Button)
        };
        assert_eq!(
            describe(&heart, &w, false),
            "Ajouter à ma liste, bouton, non sélectionné"
        );
        let setting = Item {
            checked: Some(true),
            description: "Noir sur blanc.".into(),
            ..item("Contraste élevé", Role::Switch)
        };
        assert_eq!(
            describe(&setting, &w, false),
            "Contraste élevé, interrupteur, activé, Noir sur blanc."
        );
        assert_eq!(
            describe(&item("Recherche", Role::TextField), &w, false),
            "Recherche, champ de texte, vide"
        );
        let off = Item {
            enabled: false,
            ..item("Taille 38", Role::Button)
        };
        assert_eq!(describe(&off, &w, false), "Taille 38, bouton, indisponible");
        assert_eq!(describe(&item("129,00 €", Role::Text), &w, false), "129,00 €");
    }

    #[test]
    fn personal_lines_need_headphones() {
        let w = words();
        let line = Item {
            private: true,
            ..item("Robe Lina, taille 38", Role::Button)
        };
        assert_eq!(describe(&line, &w, false), w.private);
        assert_eq!(describe(&line, &w, true), "Robe Lina, taille 38, bouton");
    }
}
