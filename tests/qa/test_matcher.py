"""The sensitive-word matcher: width and case folding, offsets in the original text."""

from hypothesis import given
from hypothesis import strategies as st

from qa.matcher import Matcher, Word, highlight_spans

WORDS = [Word(1, "稳赚不赔", "return_promise", "high"), Word(2, "VIP返点", "bribery"),
         Word(3, "返点", "bribery"), Word(4, "Kickback")]


def test_full_width_and_case_match_and_offsets_point_into_the_original_text():
    text = "客户问ｖｉｐ返点多少，我说ＫＩＣＫＢＡＣＫ不行，这单稳赚不赔"
    found = {(m.word.id, text[m.start:m.end]) for m in Matcher(WORDS).find(text)}
    assert found == {(2, "ｖｉｐ返点"), (3, "返点"), (4, "ＫＩＣＫＢＡＣＫ"), (1, "稳赚不赔")}


def test_folding_that_changes_length_still_maps_offsets_back():
    # "ﬃ" folds to three letters and "ß" to two: offsets after them must still be right.
    text = "oﬃce Straße 返点"
    match = next(m for m in Matcher(WORDS).find(text) if m.word.id == 3)
    assert text[match.start:match.end] == "返点"


def test_no_words_no_matches_and_highlight_merges_overlaps():
    assert Matcher([]).find("返点") == []
    assert highlight_spans("ab返点cd", [(2, 4), (3, 4)]) == [("ab", False), ("返点", True),
                                                             ("cd", False)]


@given(st.text(max_size=40), st.sampled_from(["返点", "稳赚不赔", "kickback"]),
       st.text(max_size=40))
def test_a_planted_word_is_always_found_where_it_was_planted(before, word, after):
    text = before + word + after
    spans = {(m.start, m.end) for m in Matcher(WORDS).find(text)}
    assert (len(before), len(before) + len(word)) in spans
