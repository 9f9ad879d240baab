//! Which AMI a machine boots: the one named in `cloud.image`, or the newest public image of the
//! chosen OS family from its publisher's account.
use aws_sdk_ec2::types::{Filter, Image};

use super::{fail, Aws, PROVIDER};
use crate::error::{CloudError, Result};

/// The image to boot and the device name of its root volume (for the disk size).
pub struct Chosen {
    pub image_id: String,
    pub root_device: String,
}

/// (os, owner account, name pattern). Owners are the publishers' official accounts.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("rocky-9", "792107900819", "Rocky-9-EC2-Base-9.*x86_64*"),
    ("alma-9", "764336703387", "AlmaLinux OS 9.*x86_64*"),
    ("rhel-9", "309956199498", "RHEL-9.*_HVM-*-x86_64-*"),
    ("centos-stream-9", "125523088429", "CentOS Stream 9 x86_64*"),
    ("centos-7", "125523088429", "CentOS Linux 7 x86_64*"),
    ("debian-12", "136693071363", "debian-12-amd64-*"),
    (
        "ubuntu-22.04",
        "099720109477",
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
    ),
    (
        "ubuntu-24.04",
        "099720109477",
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
    ),
    ("flatcar", "075585003325", "Flatcar-stable-*-hvm"),
];

pub fn known_families() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.0).collect()
}

pub async fn choose(aws: &Aws, image: Option<&str>, os: &str) -> Result<Chosen> {
    let found: Vec<Image> = match image {
        Some(id) => {
            let out = aws
                .client
                .describe_images()
                .image_ids(id)
                .send()
                .await
                .map_err(|e| fail(format!("look up image {id}"), e))?;
            out.images().to_vec()
        }
        None => {
            let (_, owner, pattern) = FAMILIES.iter().find(|f| f.0 == os).ok_or_else(|| {
                CloudError::api(
                    PROVIDER,
                    "choose image",
                    format!(
                        "no AMI lookup for os {os:?}; use one of {} or set cloud.image",
                        known_families().join(", ")
                    ),
                )
            })?;
            let out = aws
                .client
                .describe_images()
                .owners(*owner)
                .filters(Filter::builder().name("name").values(*pattern).build())
                .filters(Filter::builder().name("state").values("available").build())
                .send()
                .await
                .map_err(|e| fail(format!("look up {os} images"), e))?;
            let mut images = out.images().to_vec();
            images.sort_by(|a, b| b.creation_date().cmp(&a.creation_date()));
            images
        }
    };
    let newest = found.into_iter().next().ok_or_else(|| {
        let what = image.map_or_else(
            || format!("no {os} image"),
            |id| format!("image {id} does not exist"),
        );
        CloudError::api(
            PROVIDER,
            "choose image",
            format!("{what} in region {}", aws.region),
        )
    })?;
    Ok(Chosen {
        image_id: newest.image_id().unwrap_or_default().to_string(),
        root_device: newest.root_device_name().unwrap_or("/dev/xvda").to_string(),
    })
}
