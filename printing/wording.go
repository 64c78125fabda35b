package printing

// The letters' wording. Paragraphs are separated by a blank line.

const codeCardBody = `Here is your NemID code card. Your NemID number and temporary password are sent to you in a separate letter; you need both letters to activate NemID.

When you log on, NemID shows you a key. Find the key on the card and type the code next to it. Each code is used only once, and when only a few codes are left a new card is sent to you automatically.

Keep the card in a safe place, away from your password. Never tell anyone your codes, not even someone who says they are calling from NemID.`

const replacementBody = `You have only a few unused codes left on your current NemID code card, so here is your new card. Your NemID number and password stay the same.

Keep using your current card: your old card stays usable until all of its codes are used, and NemID asks for codes from it first. After that the codes come from this card, and you can destroy the old one.

Keep the card in a safe place, away from your password. Never tell anyone your codes, not even someone who says they are calling from NemID.`

const handoverCardBody = `This is your NemID code card, handed over to you at the counter. Your NemID number and temporary password are in a separately sealed envelope; you need both to activate NemID.

When you log on, NemID shows you a key. Find the key on the card and type the code next to it. Each code is used only once, and when only a few codes are left a new card is sent to you automatically.

Keep the card in a safe place, away from your password. Never tell anyone your codes.`

const passwordBody = `Here are your NemID number, which is your user ID, and a temporary password for activating NemID. Your code card is sent to you in a separate letter.`

const handoverPasswordBody = `Here are your NemID number, which is your user ID, and a temporary password for activating NemID, handed over to you at the counter. Your code card is in a separately sealed envelope.`

const activationSteps = `To activate NemID, log on with your NemID number and the temporary password, then type the code from your code card that stands next to the key you are shown. Finally choose your own password: either 4 digits, or 6 to 40 letters and digits.`

const passwordCaution = `The temporary password can only be used to activate NemID. Keep this letter away from your code card and never tell anyone your password. After three wrong attempts NemID is locked.`

const reminderBody = `You have been issued a NemID, but it has not been activated yet. Your code card and your temporary password reached you separately.`

const reminderAfter = `If NemID is not activated by then, the temporary password and the code card stop working and you must apply for a new NemID. If you are missing your code card or your temporary password, call NemID support.`

const lostCardBody = `You told us that your NemID code card was lost, so every card you had is blocked and will never be asked for again. Here is your new code card. Your NemID number and password stay the same.

Keep the card in a safe place, away from your password. Never tell anyone your codes, not even someone who says they are calling from NemID.`

const extraCardBody = `Here is the extra NemID code card you ordered, for example for a long stay away. Your NemID number and password stay the same.

NemID asks for codes from your oldest card first, and from this card once the cards before it are used up. Keep the card in a safe place, away from your password.`

const resetPasswordBody = `You asked for a new password because you had forgotten yours. Here are your NemID number, which is your user ID, and a temporary password. Your current password keeps working until you activate NemID with this temporary password and choose a new password; every session then ends. A newer request replaces this temporary password.`
