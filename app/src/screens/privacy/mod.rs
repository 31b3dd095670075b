//! The privacy notice: exactly what Livret stores, where, for how long, and the rights that
//! go with it. Readable before the keys are unlocked (it is what one reads before trusting
//! the tool), from the footer of every screen. It states what the code does; ARCHITECTURE.md
//! (threat model, a dossier's end) says the same to developers.

use leptos::prelude::*;

use crate::i18n::t;

/// One part of the notice: a heading and its paragraphs, each in both languages.
struct Part {
    heading: (&'static str, &'static str),
    paragraphs: &'static [(&'static str, &'static str)],
}

const NOTICE: &[Part] = &[
    Part {
        heading: ("Sur cet appareil", "On this device"),
        paragraphs: &[
            (
                "Votre dossier (le texte, les commentaires, les fiches, l'avis du jury s'il vous est rendu) et vos annexes sont enregistrés dans ce navigateur (IndexedDB), chiffrés : le dossier avec la clé de cet appareil, chaque annexe avec sa propre clé. La clé de cet appareil y est aussi, protégée par votre phrase de passe : sans elle, une copie du navigateur ne donne à lire que les identifiants des dossiers et quelques dates (une suppression, l'avancement d'un envoi).",
                "Your dossier (its text, comments, fiches, the jury's decision once released to you) and your annexes are stored in this browser (IndexedDB), encrypted: the dossier with this device's key, each annexe with its own key. This device's key is there too, protected by your passphrase: without it, a copy of the browser shows only the dossiers' identifiers and a few dates (a deletion, how far an upload went).",
            ),
            (
                "Les fichiers que vous exportez (PDF, JSON, dossier France VAE) sont faits sur cet appareil et ne sont pas chiffrés : ils sont à vous, gardez-les en lieu sûr.",
                "The files you export (PDF, JSON, France VAE dossier) are made on this device and are not encrypted: they are yours, keep them safe.",
            ),
        ],
    },
    Part {
        heading: ("Sur le serveur", "On the server"),
        paragraphs: &[
            (
                "Le serveur transmet et garde le dossier chiffré sur votre appareil : il ne peut lire ni le texte, ni les commentaires, ni les annexes, ni les noms écrits dans le dossier. Il voit ce qu'il lui faut pour faire son travail : les clés publiques des appareils membres et leur rôle (candidat, accompagnateur, juré), la taille et la date de ce qui arrive, quel appareil l'a écrit, les annexes comme des fichiers chiffrés de taille connue, et l'avis signé par lequel votre appareil renouvelle la conservation du dossier.",
                "The server passes on and keeps the dossier encrypted on your device: it can read neither the text, nor the comments, nor the annexes, nor the names written in the dossier. It sees what it needs to do its job: the member devices' public keys and their roles (candidate, advisor, juror), the size and date of what arrives, which device wrote it, annexes as encrypted files of known size, and the signed notice by which your device renews the dossier's retention.",
            ),
            (
                "Il garde aussi ce que vous lui donnez en clair pour écrire à quelqu'un : le courriel d'une invitation (l'adresse, le lien et, si vous le donnez, votre nom), le temps de l'envoyer ; l'adresse des rappels avant le jury et la date du jury, jusqu'à la fin du dossier. D'une invitation envoyée, il garde l'empreinte du lien (pas le lien), le rôle proposé, sa date d'expiration, l'appareil qui a invité et l'identité de celui qui a répondu.",
                "It also keeps what you give it in clear to write to someone: an invitation's mail (the address, the link and, if you give it, your name), until it is sent; the address for reminders before the jury and the jury's date, until the dossier ends. Of a sent invitation it keeps the link's fingerprint (not the link), the role offered, its expiry, the device that invited and the identity of the one that answered.",
            ),
            (
                "Ses journaux ne nomment ni dossier, ni adresse électronique, ni adresse IP. « Mes données », dans chaque dossier, montre ce que le serveur en garde — les membres, la taille et les dates de ce qui est chiffré, les courriels en attente, les invitations, l'adresse des rappels, la date de suppression —, tel qu'il le dit lui-même.",
                "Its logs name no dossier, no e-mail address and no IP address. “My data”, in each dossier, shows what the server keeps of it — the members, the size and dates of what is encrypted, the mails waiting, the invitations, the reminders' address, the deletion date — as the server itself says it.",
            ),
        ],
    },
    Part {
        heading: ("Dans les courriels", "In e-mails"),
        paragraphs: &[(
            "Le serveur envoie des invitations (un lien à usage unique et, si vous le donnez, votre nom), des rappels avant le jury (la date et un lien) et des avertissements avant la fin de la conservation (la date et un lien). Aucun courriel ne contient quoi que ce soit de votre dossier.",
            "The server sends invitations (a one-time link and, if you give it, your name), reminders before the jury (the date and a link) and warnings before the retention ends (the date and a link). No e-mail holds anything of your dossier.",
        )],
    },
    Part {
        heading: ("Combien de temps", "For how long"),
        paragraphs: &[
            (
                "Le serveur supprime un dossier quand rien ne s'y est passé pendant la durée fixée par son opérateur (365 jours par défaut, comme France VAE), comptée depuis la dernière activité ou la date du jury si elle est plus tardive. Vous êtes prévenu par courriel 30 puis 7 jours avant, à l'adresse des rappels ; ouvrir le dossier suffit à le prolonger. La date exacte est dans « Mes données ».",
                "The server deletes a dossier when nothing happened in it for the time its operator set (365 days by default, as France VAE does), counted from the last activity or the jury's date if later. You are warned by e-mail 30 then 7 days before, at the reminders' address; opening the dossier is enough to extend it. The exact date is in “My data”.",
            ),
            (
                "Après une suppression, le serveur ne garde que l'identifiant du dossier, sa date et l'avis signé qui l'a demandée, pour que les appareils restés hors ligne l'apprennent.",
                "After a deletion the server keeps only the dossier's identifier, its date and the signed notice that asked for it, so that devices left offline learn it.",
            ),
        ],
    },
    Part {
        heading: ("Vos droits", "Your rights"),
        paragraphs: &[
            (
                "Accès : « Mes données » montre ce que le serveur garde ; le dossier lui-même est sur votre appareil. Portabilité : l'export JSON donne tout le dossier dans un fichier lisible par une machine. Effacement : « Supprimer ce dossier » efface la copie du serveur et celle de chaque appareil membre dès qu'il l'apprend ; sans les clés, détruites avec les copies, ce qui resterait chiffré ailleurs est illisible.",
                "Access: “My data” shows what the server keeps; the dossier itself is on your device. Portability: the JSON export gives the whole dossier in a machine-readable file. Erasure: “Delete this dossier” erases the server's copy and each member device's as soon as it learns it; without the keys, destroyed with the copies, whatever stayed encrypted elsewhere cannot be read.",
            ),
            (
                "Ce que la suppression n'atteint pas : un appareil qui ne se reconnecte jamais, une copie qu'un membre a exportée. Le jury garde la décision qu'il a rendue et le procès-verbal de la session : ce sont ses documents, que la loi lui permet de conserver.",
                "What deletion does not reach: a device that never connects again, a copy a member exported. The jury keeps the decision it released and the session's procès-verbal: they are its own documents, which the law lets it keep.",
            ),
            (
                "Retirer un appareil ou un membre du dossier efface la copie de cet appareil dès qu'il l'apprend (un appareil resté sur une version antérieure de Livret, à sa mise à jour) ; il ne peut plus rien lire de ce qui est écrit ensuite. Un juré retiré garde la décision que le jury a rendue.",
                "Removing a device or a member from the dossier erases that device's copy as soon as it learns it (a device still on an earlier version of Livret, when it is updated); it can read nothing written afterwards. A removed juror keeps the decision the jury released.",
            ),
        ],
    },
];

#[component]
pub fn Privacy(back: Callback<()>) -> impl IntoView {
    view! {
        <nav class="retour" aria-label=move || t("Navigation", "Navigation")>
            <button type="button" id="retour-confidentialite" on:click=move |_| back.run(())>
                {move || t("← Retour", "← Back")}
            </button>
        </nav>
        <article class="confidentialite" id="confidentialite">
            <h2>{move || t("Confidentialité : ce qui est gardé, où, combien de temps", "Privacy: what is kept, where, for how long")}</h2>
            {NOTICE.iter().map(|part| view! {
                <section>
                    <h3>{move || t(part.heading.0, part.heading.1)}</h3>
                    {part.paragraphs.iter().map(|(fr, en)| view! {
                        <p>{move || t(fr, en)}</p>
                    }).collect_view()}
                </section>
            }).collect_view()}
        </article>
    }
}
