"""Word lists for speaker detection: speech verbs, titles, relations, common first names."""

from __future__ import annotations

from typing import Final


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


SPEECH_VERBS: Final = _set("""
said says asked replied returned cried answered continued added exclaimed observed remarked
whispered muttered murmured shouted called began resumed interrupted repeated rejoined retorted
declared inquired enquired demanded suggested laughed sighed groaned urged pursued explained
protested insisted admitted agreed addressed responded snapped growled gasped screamed sobbed
stammered ventured persisted concluded echoed hazarded pleaded whimpered mused objected
remonstrated cautioned warned announced yelled roared bellowed hissed breathed faltered
grumbled chuckled giggled sneered smiled grinned nodded
""")

MALE_TITLES: Final = _set("""
mr mister sir lord captain colonel major general inspector sergeant father uncle master count
baron prince king duke earl reverend brother
""")
FEMALE_TITLES: Final = _set("""
mrs miss ms lady madam madame mademoiselle mistress aunt mother countess baroness princess
queen duchess sister dame
""")
NEUTRAL_TITLES: Final = _set("dr doctor professor st")
TITLES: Final = MALE_TITLES | FEMALE_TITLES | NEUTRAL_TITLES

#: relation noun -> (gender, kind): kind "spouse" or "parent" or "other"
RELATIONS: Final = {
    "wife": ("female", "spouse"), "lady": ("female", "spouse"), "husband": ("male", "spouse"),
    "mother": ("female", "parent"), "father": ("male", "parent"),
    "mamma": ("female", "parent"), "papa": ("male", "parent"),
    "sister": ("female", "other"), "brother": ("male", "other"),
    "daughter": ("female", "other"), "son": ("male", "other"),
    "aunt": ("female", "other"), "uncle": ("male", "other"),
    "niece": ("female", "other"), "nephew": ("male", "other"),
    "friend": ("", "other"), "companion": ("", "other"), "cousin": ("", "other"),
}

FEMALE_NAMES: Final = _set("""
abigail ada agnes alice amelia amy anna anne annie becky beatrice bella bertha beth betsy
caroline catherine cecily charlotte clara constance cora daisy diana dora dorothy edith
eleanor elinor eliza elizabeth ella ellen elsie emily emma esther ethel eve evelyn fanny
flora florence frances georgiana georgina grace hannah harriet helen henrietta hester irene
isabel isabella jane janet jean jenny jessie joan josephine judith julia kate katherine kitty
laura lavinia lizzie lizzy louisa lucy lydia mabel maggie margaret maria marianne martha mary
matilda maud meg mildred miriam molly nancy nell nelly olivia pamela peggy phoebe polly
priscilla rachel rebecca rose ruth sally sarah sophia sophie susan sybil violet wendy winifred
""")
MALE_NAMES: Final = _set("""
albert alexander alfred andrew anthony arthur benjamin bill bob charles charley christopher
daniel david dick edmund edward ernest frank frederick fred george gerald gregory harry henry
herbert hugh jack jacob james jim joe john jonathan joseph laurence lawrence leonard lewis
mark martin matthew michael ned nicholas oliver patrick paul peter philip ralph richard robert
roger samuel sherlock simon stephen thomas tom victor walter william wilfred
""")

#: nickname -> given name; used only when the given name is already a known character
NICKNAMES: Final = {
    "lizzy": "elizabeth", "lizzie": "elizabeth", "eliza": "elizabeth", "liz": "elizabeth",
    "bob": "robert", "bobby": "robert", "bill": "william", "will": "william",
    "jim": "james", "jimmy": "james", "tom": "thomas", "tommy": "thomas",
    "dick": "richard", "ned": "edward", "ted": "edward", "harry": "henry", "jack": "john",
    "johnny": "john", "kate": "katherine", "meg": "margaret", "maggie": "margaret",
    "sally": "sarah", "fanny": "frances", "nell": "helen", "nelly": "helen",
}

#: capitalised words that are not names where a speaker's name would stand
NOT_NAMES: Final = _set("""
the a an he she it i we they you his her their my our your this that then there here now
and but or so oh ah yes no well why what who how when where which if not nay aye heaven god
however meanwhile perhaps still yet once after before at in on as all some one every each
""")

#: words that start a sentence before a name without being part of it ("By Jane this
#: attention was received", "To Elizabeth it seemed")
PREPOSITIONS: Final = _set("""
by to for with from of into onto upon about against without within towards toward among
between beside besides behind beyond under over after before since until till like unlike
near past through throughout except despite regarding concerning
""")

#: words of a description that give a character's age ("a young Lucas", "the old man")
YOUNG_WORDS: Final = _set("young younger youngest little boy girl child lad lass youth kid")
OLD_WORDS: Final = _set("old elderly aged older eldest grey-haired ancient")
#: words of a description that give a gender ("the boy", "an old woman")
MALE_WORDS: Final = _set("man gentleman boy lad fellow son father husband brother uncle")
FEMALE_WORDS: Final = _set("woman lady girl lass daughter mother wife sister aunt maid")
#: titles that say a character is young ("Miss") or middle-aged ("Mrs.", "Sir")
YOUNG_TITLES: Final = _set("miss master mademoiselle")
MIDDLE_AGED_TITLES: Final = _set("mrs madam madame sir")
