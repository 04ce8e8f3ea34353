<?xml version="1.0" encoding="UTF-8"?>
<!-- Shaped like the lexicons people export from TTS tools: comments, metadata, a default
     alphabet, per-phoneme alphabets, several graphemes per lexeme, preferred pronunciations. -->
<lexicon version="1.0"
      xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xsi:schemaLocation="http://www.w3.org/2005/01/pronunciation-lexicon
        http://www.w3.org/TR/2007/CR-pronunciation-lexicon-20071212/pls.xsd"
      alphabet="ipa" xml:lang="en-GB">
  <meta name="author" content="Narrator Studio tests"/>
  <metadata>Names for the test book</metadata>
  <lexeme>
    <grapheme>Hermione</grapheme>
    <phoneme>hɜːˈmaɪəni</phoneme>
  </lexeme>
  <lexeme role="noun">
    <grapheme>tomato</grapheme>
    <grapheme>Tomato</grapheme>
    <phoneme>təˈmɑːtəʊ</phoneme>
    <phoneme prefer="true">təˈmeɪtoʊ</phoneme>
    <example>A tomato salad.</example>
  </lexeme>
  <lexeme>
    <grapheme>Madison</grapheme>
    <phoneme alphabet="cmu-arpabet">M AE1 D IH0 S AH0 N</phoneme>
  </lexeme>
  <lexeme>
    <grapheme>UN</grapheme>
    <alias>United Nations</alias>
  </lexeme>
  <lexeme>
    <grapheme>
      Cholmondeley
    </grapheme>
    <alias>Chumley</alias>
  </lexeme>
</lexicon>
