"""The allow-list of narrative answers: what survives of typed and pasted HTML."""

import pytest

from webapp.domain.richtext import clean, text_of


@pytest.mark.parametrize("dirty, kept", [
    ('<p onclick="steal()">Xin <b>chào</b></p>', "<p>Xin <b>chào</b></p>"),
    ('<p style="color:red" class="MsoNormal">Word</p>', "<p>Word</p>"),
    ("<p>a<script>alert(1)</script></p>", "<p>a</p>"),
    ("<style>p{display:none}</style><p>b</p>", "<p>b</p>"),
    ('<img src=x onerror="alert(1)"><p>c</p>', "<p>c</p>"),
    ('<a href="javascript:alert(1)">d</a>', "d"),
    ("<!--[if gte mso 9]><xml><w:WordDocument>Normal 0 false</w:WordDocument></xml><![endif]--><p>e<o:p></o:p></p>",
     "<p>e</p>"),
    ('<iframe src="//x"></iframe><ul><li>f</li></ul>', "<ul><li>f</li></ul>"),
    ("<svg><script>alert(1)</script></svg><p><em>g</em></p>", "<p><em>g</em></p>"),
])
def test_clean_keeps_text_and_drops_everything_executable(dirty, kept):
    assert clean(dirty) == kept


def test_an_answer_without_text_is_empty():
    assert clean("<p><br></p><p>&nbsp;</p>") == ""
    assert clean("   ") == ""


def test_text_of_puts_paragraphs_and_items_on_lines():
    assert text_of("<p>A &amp; <b>b</b></p><ul><li>x</li><li>y</li></ul>") == "A & b\nx\ny"
