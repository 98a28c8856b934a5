"""Indirect-object-identification (IOI) sentence templates, names and the train/held-out split.

A template has two intro-name slots {X} {Y} and a subject slot {S}; the prompt ends right
before the indirect object (IO). With names A (IO) and B (S):
  ABBA: intro "A and B", S = B  -> "When Mary and John went to the store, John gave a drink to" -> " Mary"
  BABA: intro "B and A", S = B  -> "When John and Mary went to the store, John gave a drink to" -> " Mary"
"""
import random

# First names that are single GPT-2 tokens with a leading space (checked by generate_data.py).
# Words that are also common nouns/verbs (Mark, Bill, Grace, Rose, ...) are left out.
NAMES = """Mary John Tom James Dan Sid Martin Amy Alice Bob Sarah David Michael Paul Peter Kate Emma Anna
Lisa Laura Jack Ben Sam Alex Adam Ryan Kevin Brian Eric Jason Scott Steve Chris Matt Mike Andrew Daniel
Thomas Robert William Richard Joseph Charles George Edward Henry Frank Jerry Larry Gary Roger Tony Carl
Fred Harry Jim Joe Jane Julia Claire Helen Susan Linda Karen Nancy Betty Ruth Sharon Anne Lucy Sophie
Emily Rachel Jessica Jennifer Elizabeth Victoria Diana Maria Nina Eva Leah Zoe Sean Ian Neil Luke Jacob
Ethan Noah Oliver Lily Olivia Hannah Megan Chloe Molly Nora Jill Tim Ted Ken Dave Nick Phil Rick Ron Ross
Jeff Greg Glenn Kyle Kurt Leo Louis Lewis Mia Paula Wendy Carol Joan Kim Sally Judy Jenny Katie Kelly
Heather Andrea Tina Lauren Alan Arthur Albert Bruce Carlos Craig Derek Dennis Douglas Eddie Ernest Felix
Gordon Howard Hugo Isaac Ivan Jesse Jordan Josh Justin Keith Marcus Marco Nathan Oscar Owen Patrick Philip
Ralph Simon Stanley Stuart Victor Wayne Xavier Zach Beth Cathy Donna Fiona Gina Jackie Maggie Monica Naomi
Pam Rita Sandra Tara""".split()

# Names used by the lab's default example stay in the training split.
ALWAYS_TRAIN_NAMES = ["Mary", "John", "Tom", "James"]

# More single-token first names, for training only (generate_data.py --extra-names): with ~400
# distinct names in IOI sentences the circuit cannot lean on features of a few names, which is
# what held-out names lack. They are outside NAMES, so the held-out split does not move.
EXTRA_TRAIN_NAMES = """Abby Ada Adrian Aaron Abe Alfred Alison Allen Amanda Amos Andy Angela Annie Anton Antonio Archie Ashley
Barbara Barry Becky Benny Bernard Bert Billy Bobby Boris Brad Bradley Brandon Brenda Brett Brooke Bryan Caleb Calvin
Cameron Carlo Carmen Caroline Carrie Casey Catherine Cecil Charlie Charlotte Cindy Clara Clarence Claude Colin Connie
Conor Curtis Cynthia Damon Dana Danny Darren Debbie Deborah Denise Diane Dominic Dorothy Duncan Dustin Dylan Edgar
Edwin Elaine Eleanor Eli Elijah Ellen Elliot Elsa Emil Erik Erin Esther Eugene Evan Floyd Frances Francis Franklin
Freddie Gabriel Gavin Geoffrey Gerald Gilbert Gloria Graham Hank Harold Harriet Harvey Hector Heidi Herbert Herman
Irving Isabel Jake Jamie Janet Jeremy Jerome Jessie Jimmy Joel Joey Johnny Jon Jonathan Joyce Juan Julian Julie
Julius Karl Kathy Katherine Kenneth Kenny Kerry Kirk Lara Leon Leonard Leslie Lester Liam Lindsay Lloyd Lois Louise
Luis Lynn Manuel Margaret Marie Marian Marilyn Mario Marion Marty Marvin Maxwell Melanie Melissa Melvin Meredith
Michelle Milton Mitchell Morgan Morris Natalie Ned Nelson Nicole Norman Otto Pablo Patricia Patty Pedro Peggy Percy
Perry Pete Pierre Polly Quentin Randy Raymond Rebecca Reggie Rodney Roland Ronald Ronnie Rosa Roy Russell Samuel Sara
Sasha Seth Shane Shannon Sheila Shirley Sonia Sophia Stacy Stella Stephanie Stephen Steven Sylvia Tammy Teresa Terry
Theo Theresa Tiffany Timothy Toby Todd Tommy Tracy Travis Trevor Valerie Vernon Vince Vincent Wallace Walter Wesley
Whitney Willie Winston Zack Alexander Andre Angelo Barney Benjamin Bonnie Chester Christine Christopher Clyde Cody
Dexter Elena Fay Fernando Gareth Giles Hugh Jeanne Jorge Juliet Katrina Lorenzo Lucas Lydia Marcel Martha Matthew
Nigel Rupert Sergio Tobias""".split()
N_HELDOUT_NAMES = 40

PLACES = """store park school office station beach garden market library hospital restaurant house museum
farm river kitchen cafe shop airport church hotel bank lake zoo theater bakery gym mall village harbor""".split()

OBJECTS = """a drink|a book|a bag|an apple|a ball|a ring|a gift|a letter|a snack|a flower|a necklace|a cake|a key
|a map|a hat|a phone|a bottle of milk|an orange|a pen|a ticket|a basket|a sandwich|a coin|a box|a toy|a bone
|a cup of tea|a candle|a watch|a camera""".replace("\n", "").split("|")

TRAIN_TEMPLATES = [
    "When {X} and {Y} went to the {place}, {S} gave {obj} to",
    "After {X} and {Y} went to the {place}, {S} gave {obj} to",
    "Then, {X} and {Y} went to the {place}. {S} gave {obj} to",
    "Then, {X} and {Y} had a lot of fun at the {place}. {S} gave {obj} to",
    "Then, {X} and {Y} were working at the {place}. {S} decided to give {obj} to",
    "Then, {X} and {Y} were thinking about going to the {place}. {S} wanted to give {obj} to",
    "Then, {X} and {Y} had a long argument, and afterwards {S} said to",
    "When {X} and {Y} got {obj} at the {place}, {S} decided to give it to",
    "While {X} and {Y} were working at the {place}, {S} gave {obj} to",
    "While {X} and {Y} were commuting to the {place}, {S} gave {obj} to",
    "After the lunch, {X} and {Y} went to the {place}. {S} gave {obj} to",
    "Afterwards, {X} and {Y} went to the {place}. {S} gave {obj} to",
    "Friends {X} and {Y} found {obj} at the {place}. {S} gave it to",
    "Later {X} and {Y} met at the {place}, and {S} handed {obj} to",
    "Yesterday {X} and {Y} visited the {place}, where {S} showed {obj} to",
    "Once {X} and {Y} arrived at the {place}, {S} passed {obj} to",
    "One day {X} and {Y} were sitting in the {place} when {S} threw {obj} to",
    "At the {place}, {X} and {Y} talked for hours, and then {S} sent {obj} to",
    "Last week {X} and {Y} cleaned the {place}. Later {S} lent {obj} to",
    "When {X} and {Y} left the {place}, {S} wrote a letter to",
    "Since {X} and {Y} were hungry at the {place}, {S} brought {obj} to",
    "Today {X} and {Y} walked to the {place} together, and {S} offered {obj} to",
    "On Monday {X} and {Y} went to the {place}. {S} sold {obj} to",
    "In the morning {X} and {Y} drove to the {place}, and {S} gave {obj} to",
    "Once again {X} and {Y} were bored at the {place}, so {S} told a story to",
    "The {place} was quiet when {X} and {Y} came in, and {S} gave {obj} to",
    "When {X} and {Y} were at the {place}, {S} made {obj} for",
    "On Sunday {X} and {Y} opened the {place} early. Soon {S} gave {obj} to",
]

# Never used for training: the held-out evaluation uses only these (and held-out names).
HELDOUT_TEMPLATES = [
    "As soon as {X} and {Y} reached the {place}, {S} handed {obj} to",
    "Before {X} and {Y} went home from the {place}, {S} gave {obj} to",
    "During a trip to the {place}, {X} and {Y} got lost, and {S} sent a message to",
    "Last summer {X} and {Y} spent the day at the {place}. In the evening {S} showed {obj} to",
    "After a long walk to the {place}, {X} and {Y} sat down and {S} offered {obj} to",
    "It was late when {X} and {Y} finished at the {place}, so {S} said goodbye to",
    "Because {X} and {Y} liked the {place}, {S} bought {obj} for",
    "When {X} and {Y} came back from the {place}, {S} passed {obj} to",
]

# A second held-out set, written on 2026-12-07 before any model was scored on it, after the
# training grammar had been extended by what the first set's failures showed: its score is the
# one that no recipe choice has looked at. Held-out names only, like the first. Four templates
# were reworded the same day, before any recipe was chosen by this set, because they used words
# the models never trained on ("Early", "Near", "Whenever", "Having", " travelled") or were a
# grammar frame but for their opening; generate_data.py now checks the first of those.
FRESH_TEMPLATES = [
    "In the early morning {X} and {Y} drove out to the {place}, and there {S} gave {obj} to",
    "At the end of an afternoon at the {place}, {X} and {Y} stopped, and {S} handed {obj} to",
    "Every day {X} and {Y} drove to the {place}, and {S} brought {obj} for",
    "By the time {X} and {Y} got home from the {place}, {S} had given {obj} to",
    "On a warm night at the {place}, {X} and {Y} laughed a lot, and {S} gave {obj} to",
    "After {X} and {Y} had dinner at the {place}, {S} showed {obj} to",
    "That night {X} and {Y} were both at the {place}, and {S} sent {obj} to",
    "It was a long hour at the {place}, and {X} and {Y} were tired, so {S} passed {obj} to",
]

# A third held-out set, written on 2026-12-07 after the bundled model's recipe and seed had been
# chosen (by the first two sets) and before any model was scored on it: its score is the one no
# choice has seen. Trained words only, held-out names, none of them a training or grammar frame.
THIRD_TEMPLATES = [
    "Then one day {X} and {Y} walked into the {place}, and {S} handed {obj} to",
    "While the {place} was closed, {X} and {Y} sat outside, and {S} gave {obj} to",
    "The two friends {X} and {Y} went to the {place}. There {S} showed {obj} to",
    "On the first day of school {X} and {Y} met at the {place}, and {S} said hello to",
    "Because it was cold, {X} and {Y} were sitting in the {place}, so {S} made {obj} for",
    "After work {X} and {Y} went to the {place} for a while, and then {S} passed {obj} to",
    "At the {place} last night, {X} and {Y} were eating, and {S} threw {obj} to",
    "The next morning {X} and {Y} left the {place} early, and {S} sent {obj} to",
]

# No template starts with a name: after BOS the name would be a different token (no leading
# space) from its later mention, which would break the duplicate-name signal.

# Single-name sentences (not IOI): they make every name, held-out ones included, look like a
# name to the model without ever showing a held-out name in an IOI context.
FILLER_FRAMES = [
    "Then {N} went to the {place}.",
    "I think {N} likes the {place} very much.",
    "Yesterday {N} bought {obj} at the {place}.",
    "Today {N} was happy to see the {place} again.",
    "Everyone at the {place} knows {N}.",
    "Last night {N} lost {obj} near the {place}.",
    "My friend {N} works at the {place}.",
    "Then {N} said hello and left.",
    "The {place} was closed, so {N} went home.",
    "This morning {N} found {obj} under the table.",
]


def split_names(seed):
    """Deterministic train/held-out split of NAMES."""
    pool = sorted(set(NAMES) - set(ALWAYS_TRAIN_NAMES))
    random.Random(seed).shuffle(pool)
    heldout = sorted(pool[:N_HELDOUT_NAMES])
    train = sorted(pool[N_HELDOUT_NAMES:] + ALWAYS_TRAIN_NAMES)
    return train, heldout


# Training-only variation: phrases inserted after the place and before the subject's second
# mention, so that names sit at many different positions and the model cannot solve IOI with
# per-template position rules (which, without them, failed on held-out templates).
AFTER_PLACE = ["near the {place2}", "on a rainy day", "with some friends", "in the afternoon", "by bus",
               "after work", "for the first time", "early in the morning", "on a cold evening", "together"]
BEFORE_S2 = ["after a while", "later that day", "without a word", "with a smile", "as usual", "for some reason",
             "in the end", "at last", "once again", "a bit later", "all of a sudden", "after some time"]


def vary_template(rng, template, p=0.4):
    """Randomly insert AFTER_PLACE / BEFORE_S2 phrases into a training template."""
    if rng.random() < p:
        i = template.find("{place}")
        if i >= 0 and template[i + 7:i + 8] in ",.":
            template = template[:i + 7] + " " + rng.choice(AFTER_PLACE) + template[i + 7:]
    if rng.random() < p:
        phrase = rng.choice(BEFORE_S2)
        if ". {S}" in template:
            template = template.replace(". {S}", ". " + phrase[0].upper() + phrase[1:] + ", {S}", 1)
        elif ", {S}" in template:
            template = template.replace(", {S}", ", " + phrase + " {S}", 1)
    return template


def make_ioi(rng, template, names, form=None, vary=False):
    """One IOI example: {"prompt", "answer", "wrong", "form", "template"}; names get a leading space."""
    if vary:
        template = vary_template(rng, template)
    io, s = rng.sample(names, 2)
    form = form or rng.choice(["ABBA", "BABA"])
    x, y = (io, s) if form == "ABBA" else (s, io)
    prompt = template.format(X=x, Y=y, S=s, place=rng.choice(PLACES), obj=rng.choice(OBJECTS),
                             place2=rng.choice(PLACES))
    return {"prompt": prompt, "answer": " " + io, "wrong": " " + s, "form": form, "template": template}


def make_filler(rng, names):
    return rng.choice(FILLER_FRAMES).format(N=rng.choice(names), place=rng.choice(PLACES), obj=rng.choice(OBJECTS))


# A clause grammar for training frames (generate_data.py --grammar-share; off by default, 0.5 in
# reproduce.sh): many lead-ins (including place phrases right before the pair), first-clause verb
# phrases, joins and second-clause actions. Phrases of the held-out templates are not in it, and
# a frame equal to a held-out template is refused.
GRAMMAR_CONJ = ["When", "After", "While", "Once", "Since", "Just after", "Right after", "The moment",
                "Even though", "Although", "Every time", "Soon after", "Whenever", "Now that"]
GRAMMAR_VP1 = ["went to the {place}", "walked to the {place}", "met at the {place}", "were waiting at the {place}",
               "arrived at the {place}", "had lunch at the {place}", "stayed at the {place}",
               "looked around the {place}", "cleaned the {place}", "visited the {place}", "talked for a while",
               "played a game", "were working late", "ran into each other at the {place}", "got to the {place}",
               "stopped by the {place}", "were sitting in the {place}", "moved to the {place}",
               "rested near the {place}", "were talking in the {place}", "opened the {place}",
               "painted the {place}", "were reading in the {place}", "had a picnic", "cooked dinner",
               "went for a swim", "were chatting outside the {place}", "left for the {place}"]
GRAMMAR_LEAD = ["One day, ", "Yesterday, ", "Last year, ", "On Friday, ", "In the afternoon, ", "Later, ",
                "It was a sunny day. ", "It was raining. ", "The day was cold. ", "Nobody was around. ",
                "Inside the {place}, ", "Outside the {place}, ", "Behind the {place}, ", "Near the {place}, ",
                "Far from the {place}, ", "Back at the {place}, ", "In front of the {place}, ",
                "Next to the {place}, ", "On the way to the {place}, ", "Not far from the {place}, ",
                "Close to the {place}, ", "Across from the {place}, ", "After a morning at the {place}, ",
                "Following a visit to the {place}, ", "On their way home from the {place}, ",
                "After an hour in the {place}, ", "At the back of the {place}, ", "Deep inside the {place}, "]
# More lead-ins that end in "to the {place}, " right before the pair (generate_data.py
# --to-place-leads). Most training frames put the subject's second mention right after "to the
# {place},", and a model trained on them reads the name after that phrase as the subject.
# Written after the held-out analysis of 2026-12-05 (README), with no held-out phrase in them.
GRAMMAR_LEAD_TO_PLACE = ["After a drive to the {place}, ", "On a visit to the {place}, ", "After the move to the {place}, ",
                         "On the road to the {place}, ", "After a bus ride to the {place}, ", "On a day out to the {place}, ",
                         "After a run to the {place}, ", "On the way back to the {place}, ", "After the climb to the {place}, ",
                         "On a short visit to the {place}, ", "After their return to the {place}, ", "On the path to the {place}, "]
GRAMMAR_JOIN_SUB = [", ", ", after a while ", ", once again ", ", later ", ", without a word "]  # after a "When ..." clause
GRAMMAR_JOIN = [", and ", ". ", ", so ", ". Then ", ". Later, ", ", and then ", ". After that, ", ", but ",
                ". Soon ", ". In the end, ", ". The {place2} was busy, and ", ". It got dark, and "]
GRAMMAR_VP2 = ["gave {obj} to", "handed {obj} to", "passed {obj} to", "sent {obj} to", "showed {obj} to",
               "offered {obj} to", "lent {obj} to", "threw {obj} to", "sold {obj} to", "brought {obj} to",
               "gave it to", "said hello to", "talked to", "wrote a note to", "made {obj} for", "bought {obj} for",
               "decided to give {obj} to", "wanted to give {obj} to", "returned {obj} to", "read a story to",
               "explained the plan to", "sang a song for", "waved to", "told a joke to", "took {obj} to"]


# More frames (generate_data.py --more-frames), written on 2026-12-07 after the held-out
# analysis of 2026-12-05 showed misses where the pair's clause ends without a place, where " and"
# joins the two clauses, and after a "... when" opening. None of the held-out sets' phrases is in
# them (checked below); what they add is structure, not the held-out wording.
MORE_VP1 = ["fell asleep", "stood up", "took a break", "ate some bread", "looked outside", "went outside",
            "got up early", "were done at the {place}", "waited for the bus", "took a seat", "had some tea",
            "got hungry", "walked around", "were very quiet", "went to bed", "came inside the {place}",
            "had a rest", "looked at the map"]
MORE_JOIN = [" and ", ", and soon ", " and then ", ", and after that ", ". Next, ", ", so then "]
MORE_VP2 = ["said thanks to", "gave a hug to", "called out to", "left {obj} for", "got {obj} for", "gave the key to",
            "handed it to", "showed it to", "passed it to", "sent a note to"]
# A main clause that ends in "when": '{When}{X} and {Y} VP1{join}S VP2'
MORE_WHEN = ["It was dark when ", "It was noon when ", "It was still early when ", "The {place} was empty when ",
             "Nobody was home when ", "The sun was up when ", "It was a cold day when ", "Everyone was happy when "]


class Grammar:
    """The phrase lists grammar_template draws from; the opt-in extensions add to them."""

    def __init__(self, to_place_leads=False, more_frames=False, random_vp_words=(), random_vp_share=0.0):
        self.leads = GRAMMAR_LEAD + (GRAMMAR_LEAD_TO_PLACE if to_place_leads else [])
        self.vp1 = GRAMMAR_VP1 + (MORE_VP1 if more_frames else [])
        self.join = GRAMMAR_JOIN + (MORE_JOIN if more_frames else [])
        self.vp2 = GRAMMAR_VP2 + (MORE_VP2 if more_frames else [])
        self.when = MORE_WHEN if more_frames else []
        self.random_vp_words, self.random_vp_share = list(random_vp_words), random_vp_share

    def phrases(self):
        return GRAMMAR_CONJ + self.leads + self.vp1 + self.vp2 + self.join + self.when


def grammar_template(rng, grammar):
    """One training frame from the clause grammar: '{Conj} X and Y VP1{join}S VP2' or
    '{Lead}X and Y VP1{join}S VP2', optionally with a lead before the conjunction too, or (with
    more frames) '{When}X and Y VP1{join}S VP2'. Without more frames it draws exactly as before."""
    vp1, vp2 = rng.choice(grammar.vp1), rng.choice(grammar.vp2)
    if grammar.random_vp_share and rng.random() < grammar.random_vp_share:
        vp1 = random_verb_phrase(rng, grammar.random_vp_words)
    if grammar.when and rng.random() < 0.15:
        head = rng.choice(grammar.when) + "{X} and {Y} "
        join = rng.choice(grammar.join)
    elif rng.random() < 0.5:
        lead = rng.choice(grammar.leads) if rng.random() < 0.4 else ""
        conj = rng.choice(GRAMMAR_CONJ)
        if lead and not lead.endswith(". "):
            conj = conj[0].lower() + conj[1:]
        join = rng.choice(GRAMMAR_JOIN_SUB)
        head = lead + conj + " {X} and {Y} "
    else:
        head = rng.choice(grammar.leads) + "{X} and {Y} "
        join = rng.choice(grammar.join)
    template = (head.replace("{place}", "{place2}") + vp1 + join + "{S} " + vp2)
    assert template not in HELDOUT_TEMPLATES + FRESH_TEMPLATES + THIRD_TEMPLATES
    return template


def random_verb_phrase(rng, words):
    """1-4 random lowercase words, sometimes followed by a place: a first clause the model has
    never seen, so that the circuit cannot lean on the words between the pair and the subject."""
    phrase = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
    return phrase + (" the {place}" if rng.random() < 0.5 else "")


def _check_more_frames_are_not_heldout():
    heldout = " ".join(HELDOUT_TEMPLATES + FRESH_TEMPLATES + THIRD_TEMPLATES)
    for phrase in MORE_VP1 + MORE_VP2 + MORE_WHEN:
        assert phrase.format(place="{place}", obj="{obj}").strip() not in heldout, phrase


_check_more_frames_are_not_heldout()
