//! How text becomes search terms: words split at anything not a letter or digit, except
//! that runs of CJK characters (which have no spaces between words) become overlapping
//! pairs, so any word of two or more characters is found as a phrase of its pairs. Then
//! lower case, English stems ("printers" is "printer"), and very long tokens dropped.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The analyzer's name in the index's tokenizer manager.
pub const ANALYZER: &str = "helpdesk";

/// The analyzer every text field is indexed and searched with.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordsAndPairs::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Han, kana and Hangul: scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // Extensions B and later
}

#[derive(Clone, Default)]
pub struct WordsAndPairs {
    tokens: Vec<Token>,
}

pub struct Tokens<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl Tokenizer for WordsAndPairs {
    type TokenStream<'a> = Tokens<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        self.tokens = split(text);
        Tokens { tokens: &mut self.tokens, next: 0 }
    }
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The tokens of `text`, positions counted across words and pairs.
fn split(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut push = |from: usize, to: usize| {
        let position = tokens.len();
        tokens.push(Token {
            offset_from: from,
            offset_to: to,
            position,
            text: text[from..to].to_string(),
            ..Default::default()
        });
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(o, _)| *o);
    let mut i = 0;
    while i < chars.len() {
        let (from, c) = chars[i];
        if !c.is_alphanumeric() {
            i += 1;
        } else if is_cjk(c) {
            let mut j = i;
            while j + 1 < chars.len() && is_cjk(chars[j + 1].1) {
                j += 1;
            }
            if j == i {
                push(from, end_of(i));
            }
            for (k, (offset, _)) in chars.iter().enumerate().take(j).skip(i) {
                push(*offset, end_of(k + 1));
            }
            i = j + 1;
        } else {
            let mut j = i;
            while j + 1 < chars.len() && chars[j + 1].1.is_alphanumeric() && !is_cjk(chars[j + 1].1) {
                j += 1;
            }
            push(from, end_of(j));
            i = j + 1;
        }
    }
    tokens
}

/// The terms `text` becomes, in order (what a query's words are looked up as).
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_stemmed() {
        assert_eq!(terms("Printers JAMMED, e-mail!"), ["printer", "jam", "e", "mail"]);
    }

    #[test]
    fn cjk_runs_become_overlapping_pairs() {
        assert_eq!(terms("打印机坏了"), ["打印", "印机", "机坏", "坏了"]);
        assert_eq!(terms("打"), ["打"]);
        assert_eq!(terms("the 打印机 jam"), ["the", "打印", "印机", "jam"]);
        // Positions run on across words and pairs, so a phrase of pairs matches in place.
        let positions: Vec<usize> = split("ab 打印机").iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 1, 2]);
    }

    #[test]
    fn offsets_cover_the_original_text() {
        let text = "Café 打印 ok";
        for token in split(text) {
            assert_eq!(&text[token.offset_from..token.offset_to], token.text);
        }
    }
}
